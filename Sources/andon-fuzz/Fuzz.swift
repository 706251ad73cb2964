// libFuzzer entry point (docs/fuzzing.md): one binary, six targets, chosen by ANDON_FUZZ. Built and run by
// scripts/fuzz with `--sanitize=fuzzer`; a plain build makes a binary that does nothing.
import AndonConfig
import AndonCore
import AndonProtocol
import AndonSparkplug
import Foundation

enum FuzzTarget: String {
    /// A datagram or a line from a controller: `Request.parse`, and the reply to what it parses to.
    case wire
    /// What andonctl reads from andond: a reply line, and the JSON of a status reply.
    case control
    /// The signed-message check: split, verify under a key, the replay cache.
    case signed
    /// The configuration loader on any text.
    case config
    /// An acknowledge link's token (`/ack/TOKEN` on the web face, `ack token=` on the socket): form, MAC, expiry.
    case token
    /// A Sparkplug B payload from the broker (andon-sparkplug): the protobuf decoder, and the bridge on it.
    case sparkplug

    static let current: FuzzTarget = {
        guard let name = ProcessInfo.processInfo.environment["ANDON_FUZZ"], let target = FuzzTarget(rawValue: name)
        else {
            FileHandle.standardError.write(
                Data("set ANDON_FUZZ to wire, control, signed, config, token or sparkplug\n".utf8)
            )
            exit(2)
        }
        return target
    }()
}

nonisolated(unsafe) var replayCache = ReplayCache()
nonisolated(unsafe) var bridge = BridgeCore(
    configuration: try! BridgeConfiguration.parse(  // a literal, valid configuration
        "group: G\nnodes: { n: { line: L1, metrics: { \"A\": { signal: andon, category: help }, "
            + "\"S\": { signal: stop } }, feedback: F } }"
    ),
    startedAt: 1
)
let fuzzKey = [UInt8](repeating: 0x5a, count: 32)
let fuzzNow = Instant(millisecondsSinceEpoch: 1_796_032_800_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.current {
    case .wire:
        switch Request.parse(bytes) {
        case .success(let request):
            // What andond renders back must parse again as the same request.
            let rendered = request.message.rendered
            guard case .success(let again) = Request.parse(Array(rendered.utf8)), again == request else {
                fatalError("\(rendered) does not parse back to the request it renders")
            }
        case .failure(let error):
            let reply = Reply.error(error).rendered
            guard !reply.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                fatalError("a raw control character in the reply \(reply)")
            }
        }
    case .control:
        let text = String(decoding: bytes, as: UTF8.self)
        if case .success(let reply) = Reply.parse(text) { _ = reply.rendered }
        _ = try? JSONDecoder().decode(StatusReport.self, from: Data(bytes))
    case .signed:
        guard let signed = MessageSigning.split(bytes) else { return 0 }
        if MessageSigning.isValid(signed, key: fuzzKey) {
            // Only a signature made with the key verifies: finding one by chance would be a broken HMAC.
            guard MessageSigning.signature(of: signed.covered, key: fuzzKey) == signed.signature else {
                fatalError("a signature that is not the key's verified")
            }
        }
        _ = replayCache.insert(
            signed.signature,
            expiry: signed.timestamp &* 1000,
            now: fuzzNow.millisecondsSinceEpoch
        )
    case .config:
        let text = String(decoding: bytes, as: UTF8.self)
        if var configuration = try? ConfigurationLoader.parse(text, file: "fuzz.yaml", now: fuzzNow) {
            configuration.security = [:]  // key files are not the loader's; nothing is read from disk
            _ = configuration.plant.lines.count
        }
    case .sparkplug:
        if let payload = try? SparkplugPayload.decode(bytes) {
            // What decodes encodes to what decodes the same.
            guard
                (try? SparkplugPayload.decode(payload.encoded())) == payload
                    || payload.metrics.contains(where: {
                        if case .double(let value) = $0.value { return value.isNaN }
                        return false
                    })
            else { fatalError("a payload that does not decode back to itself") }
        }
        // The bridge on it, as node data and as device data: only valid requests come out.
        for topic in ["spBv1.0/G/NDATA/n", "spBv1.0/G/DDATA/n/S1", "spBv1.0/G/NBIRTH/n"] {
            for action in bridge.handle(topic: topic, payload: bytes, now: 1) {
                guard case .send(let request) = action else { continue }
                guard case .success(let again) = Request.parse(Array(request.message.rendered.utf8)), again == request
                else { fatalError("the bridge made \(request.message.rendered), which andond would not take") }
            }
        }
    case .token:
        let text = String(decoding: bytes, as: UTF8.self)
        let now = fuzzNow.millisecondsSinceEpoch / 1000
        if case .success(let token) = AckToken.decode(text, key: fuzzKey, now: now) {
            // Only the key's MAC is accepted: what decoded must be what the key signs, and sign the same again.
            guard case .success(let again) = AckToken.decode(token.encoded(key: fuzzKey), key: fuzzKey, now: now),
                again == token
            else { fatalError("\(text) decoded but its own encoding does not") }
        }
    }
    return 0
}
