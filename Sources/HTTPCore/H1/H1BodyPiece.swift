/// What `H1OutboundMessage.writeBody(_:endStream:trailers:pieces:)` hands its sink, in order.
enum H1BodyPiece {
    /// Octets the message made: a chunk's size line and CRLF, the last chunk and trailers,
    /// compressed data.
    case framing(UnsafeRawBufferPointer)
    /// The caller's data itself, unchanged: a caller that holds it in an array queues the
    /// array, which a large body's chunk then reaches the socket in without a copy.
    case data
}
