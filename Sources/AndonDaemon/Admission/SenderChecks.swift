import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import Foundation

/// What andond keeps to check who sends over UDP: keys replaced by a reload (accepted until their overlap ends),
/// and the signatures of signed messages it accepted within the window, so that each is taken once.
struct SenderChecks: Sendable {
    /// Per line, keys that a reload replaced, each accepted until its instant.
    var replacedKeys: [LineID: [(key: [UInt8], until: Instant)]] = [:]
    var seen = ReplayCache()

    /// After a reload from `old` to `new`: a line's key that changed stays accepted for `overlap`.
    mutating func rotate(from old: Configuration, to new: Configuration, at now: Instant) {
        for (line, key) in old.keys where new.keys[line]?.bytes != key.bytes && new.keys[line] != nil {
            replacedKeys[line, default: []].append((key.bytes, now + new.signing.overlap))
        }
        for line in replacedKeys.keys {
            replacedKeys[line] = replacedKeys[line]?.filter { now < $0.until && new.keys[line] != nil }
        }
    }

    /// Why a UDP signal for `line` from `host` (as `Peer.sender` names it) is refused; nil when it may go on.
    /// A refused signal has no effect. Checked in order: the source address, then the signature, its time, and
    /// whether it was taken already.
    mutating func refusal(
        for line: LineID,
        from host: String,
        signed: MessageSigning.Signed?,
        configuration: Configuration,
        at now: Instant
    ) -> WireError? {
        guard let security = configuration.security[line] else { return nil }
        if let senders = security.senders {
            let address = AddressRange.bytes(of: host)
            guard let address, senders.contains(where: { $0.contains(address) }) else {
                let allowed = senders.isEmpty ? "none" : senders.map(\.description).joined(separator: ", ")
                return WireError(
                    .notAuthorized,
                    "\(host) may not send for line \(line): its senders are \(allowed) (lines.\(line).senders)"
                )
            }
        }
        guard let key = configuration.keys[line] else { return nil }
        guard let signed else {
            return WireError(
                .unsigned,
                "line \(line) takes signed messages only: add ts= and sig= (docs/protocol.md; andonctl sign)"
            )
        }
        let keys = [key.bytes] + (replacedKeys[line] ?? []).filter { now < $0.until }.map(\.key)
        guard keys.contains(where: { MessageSigning.isValid(signed, key: $0) }) else {
            return WireError(
                .badSignature,
                "the signature is not line \(line)'s key's: a forged or altered message, "
                    + "or the controller has another key"
            )
        }
        let window = configuration.signing.window.milliseconds
        let skew = now.millisecondsSinceEpoch - signed.timestamp * 1000
        guard abs(skew) <= window else {
            let seconds = abs(skew) / 1000
            return WireError(
                .stale,
                "ts=\(signed.timestamp) is \(seconds) s \(skew > 0 ? "behind" : "ahead of") andond's clock (the window "
                    + "is ±\(window / 1000) s): check the controller's clock (NTP), or it is an old message sent again"
            )
        }
        guard
            seen.insert(signed.signature, expiry: signed.timestamp * 1000 + window, now: now.millisecondsSinceEpoch)
        else {
            return WireError(
                .replayed,
                "this signed message was taken already: each is taken once (send a new ts= or seq=; a retransmit "
                    + "with the same seq= gets the first reply)"
            )
        }
        return nil
    }

    /// The signatures andond took within the window before it stopped, from the input log: a restart does not
    /// make a captured message new again.
    static func recentlySeen(in store: StateStore, now: Instant, window: Duration) -> ReplayCache {
        var cache = ReplayCache()
        let from = now.millisecondsSinceEpoch - 2 * window.milliseconds
        guard let inputs = try? store.inputs(from: from, to: .max) else { return cache }
        for input in inputs where input.kind == .signal {
            guard let signed = MessageSigning.split(Array(input.body.utf8)) else { continue }
            _ = cache.insert(
                signed.signature,
                expiry: signed.timestamp * 1000 + window.milliseconds,
                now: now.millisecondsSinceEpoch
            )
        }
        return cache
    }
}
