import HTTPCore

// A final response that arrived while the request body was still being written.

extension HTTPStream {
    /// The final response head the server already sent, skipping the interim ones before it;
    /// nil when none has arrived. Never waits.
    ///
    /// For a request body whose writing failed: a server that answers before the body ended (a
    /// 413, a 401) and closes the connection makes the rest of the body fail to go, and that
    /// answer, not the write error, is the outcome (RFC 9112 §9.5: "A client sending a message
    /// body SHOULD monitor the network connection for an error response while it is transmitting
    /// the request. If the client sees a response that indicates the server does not wish to
    /// receive the message body and is closing the connection, the client SHOULD immediately
    /// cease transmitting the body and close its side of the connection.").
    func finalResponseReceived() async -> Headers? {
        // `try?` flattens: nil for no head queued (a timeout at once), for the end and for an error.
        while let headers = try? await getHeaders(timeout: 0) {
            let status = headers.first(":status").flatMap { Int($0) } ?? 0
            if status >= 200 || status == 101 { return headers }
        }
        return nil
    }
}
