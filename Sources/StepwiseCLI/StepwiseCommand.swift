import ArgumentParser
import Stepwise

/// The demo command line: `stepwise serve` (the HTTP/1.1 server demo) and, with the client
/// issue, `stepwise get`.
@main
struct StepwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise",
        abstract: "HTTP/1.1 server and client demo of the Stepwise library.",
        version: "\(StepwiseVersion.name) \(StepwiseVersion.version)",
        subcommands: [Serve.self, Get.self]
    )
}
