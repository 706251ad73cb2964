/// Why the state directory or its database cannot be used. Each says what is wrong, where, and what to do.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String { case locked, newer, unusable, corrupt, write }
        fileprivate let base: Base
        /// Another andond holds the state directory's lock.
        public static let locked = Code(base: .locked)
        /// The database was written by a newer andond.
        public static let newer = Code(base: .newer)
        /// The directory cannot be created, written or locked.
        public static let unusable = Code(base: .unusable)
        /// The database cannot be read: it is moved aside and andond starts empty.
        public static let corrupt = Code(base: .corrupt)
        /// A commit failed (disk full, I/O error).
        public static let write = Code(base: .write)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The pid holding the lock, for `.locked`.
    public var holder: Int32?

    public init(_ code: Code, _ message: String, holder: Int32? = nil) {
        self.code = code
        self.message = message
        self.holder = holder
    }

    public var description: String { message }
}
