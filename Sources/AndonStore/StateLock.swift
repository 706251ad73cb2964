import Foundation

/// An exclusive `flock` on `DIR/lock`, held for the life of the process: one andond per state directory. The file
/// holds the holder's pid, so a second andond can say which one it is.
final class StateLock: Sendable {
    let path: String
    private let descriptor: Int32

    init(directory: String) throws(StoreError) {
        path = (directory as NSString).appendingPathComponent("lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(
                .unusable,
                "cannot open \(path): \(String(cString: strerror(errno))); give andond a writable state directory "
                    + "(StateDirectory=, --state-directory)"
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
            close(fd)
            let holder = count > 0 ? Int32(String(decoding: buffer[..<count], as: UTF8.self).filter(\.isNumber)) : nil
            guard reason == EWOULDBLOCK else {
                throw StoreError(.unusable, "cannot lock \(path): \(String(cString: strerror(reason)))")
            }
            throw StoreError(
                .locked,
                "another andond (pid \(holder.map(String.init) ?? "unknown")) holds the state directory "
                    + "\((directory as NSString).standardizingPath) (\(path)); stop it first, or give this one another "
                    + "--state-directory",
                holder: holder
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
