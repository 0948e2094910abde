/// An object that owns an open file descriptor and keeps it open for as long as it lives: what
/// `StreamSocket.sendFile` sends from. The socket holds the owner until the blocking-work thread
/// that reads the file is done with it, so the descriptor cannot be closed (and its number
/// reused for another file) while the kernel still reads through it.
public protocol FileDescriptorOwner: AnyObject, Sendable {
    var fd: Int32 { get }
}
