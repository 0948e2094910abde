/// Fixed pools of octets that randomized tests take their data from.
public enum SampleData {
    /// 512 KiB of random octets, for data that does not compress.
    public static let noise: [UInt8] = {
        var rng = SplitMix64(seed: 2)
        return [UInt8](unsafeUninitializedCapacity: 512 * 1024) { buffer, count in
            UnsafeMutableRawBufferPointer(buffer).withMemoryRebound(to: UInt64.self) { words in
                for i in words.indices { words[i] = rng.next() }
            }
            count = 512 * 1024
        }
    }()

    /// 16 KiB of words, for data that compresses a few times over.
    public static let text: [UInt8] = {
        var rng = SplitMix64(seed: 1)
        let words = ["stepwise", "chunked", "gzip", "the", "a", "\r\n", "transfer", "coding", " "]
        var text = ""
        while text.utf8.count < 16 * 1024 { text += words[Int(rng.next() % UInt64(words.count))] }
        return Array(text.utf8)
    }()
}
