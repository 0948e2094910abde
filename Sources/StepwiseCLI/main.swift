import Glibc
import Stepwise

// The demo command line. `serve` (the HTTP/1 server demo) and `get` (a small curl) arrive with
// their issues; until then it reports its version and what it will do.
let usage = """
    usage: stepwise <command>

      --version    print the library name and version
      --help       this text

    coming next: `stepwise serve` (HTTP/1.1 server demo) and `stepwise get URL` (client).
    Until then, `make run` starts the foreign-loop example `example-poll-host`.
    """

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "--version":
    print("\(StepwiseVersion.name) \(StepwiseVersion.version)")
case "--help", "-h", nil:
    print(usage)
default:
    let message = "stepwise: unknown command '\(arguments.first!)'\n\n\(usage)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
