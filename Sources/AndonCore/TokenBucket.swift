/// Per-source token buckets: each source may send `rate` messages a second on average and `burst` at once. Pure and
/// clock-free: the caller passes the time (monotonic nanoseconds). At most `capacity` sources are tracked; when a new
/// one would exceed it, the sources whose buckets are full again (quiet for `burst / rate` seconds) are forgotten,
/// and if none are, the new source shares one overflow bucket, so a flood from ever-changing (spoofed) addresses
/// costs bounded memory and is still limited. Inlinable: andond calls `take` for every datagram, and a generic call
/// across modules would not be specialised.
public struct TokenBuckets<Source: Hashable>: Sendable where Source: Sendable {
    public let rate: Double
    public let burst: Double
    public let capacity: Int
    @usableFromInline var buckets: [Source: Bucket] = [:]
    @usableFromInline var overflow = Bucket(tokens: 0, at: 0)

    @usableFromInline
    struct Bucket: Sendable {
        @usableFromInline var tokens: Double
        @usableFromInline var at: UInt64

        @inlinable
        init(tokens: Double, at: UInt64) {
            self.tokens = tokens
            self.at = at
        }
    }

    public init(rate: Double, burst: Double, capacity: Int = 65_536) {
        self.rate = rate
        self.burst = max(1, burst)
        self.capacity = capacity
        overflow.tokens = self.burst
    }

    public var count: Int { buckets.count }

    /// Takes one token for `source` at `now`; false when its bucket is empty (the message is over its budget).
    @inlinable
    public mutating func take(_ source: Source, now: UInt64) -> Bool {
        // One hash lookup for a known source, the case a flood makes hot.
        if let index = buckets.index(forKey: source) {
            return Self.take(&buckets.values[index], now: now, rate: rate, burst: burst)
        }
        if buckets.count >= capacity {
            buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
            if buckets.count >= capacity { return Self.take(&overflow, now: now, rate: rate, burst: burst) }
        }
        var bucket = Bucket(tokens: burst, at: now)
        let taken = Self.take(&bucket, now: now, rate: rate, burst: burst)
        buckets[source] = bucket
        return taken
    }

    @usableFromInline
    func refilled(_ bucket: Bucket, now: UInt64) -> Bucket {
        var copy = bucket
        _ = Self.take(&copy, now: now, rate: rate, burst: burst, spend: false)
        return copy
    }

    @inlinable
    static func take(
        _ bucket: inout Bucket,
        now: UInt64,
        rate: Double,
        burst: Double,
        spend: Bool = true
    ) -> Bool {
        if now > bucket.at {
            bucket.tokens = min(burst, bucket.tokens + Double(now - bucket.at) / 1e9 * rate)
            bucket.at = now
        }
        guard bucket.tokens >= 1 else { return false }
        if spend { bucket.tokens -= 1 }
        return true
    }
}
