import AndonCore
import Foundation

/// What a snapshot stores: the engine's state and the retransmit window, in one versioned byte form.
///
/// `ANDS`, a version byte, then the engine (`EscalationEngine.encodeState`) and the window, in `BinaryWriter`'s
/// form. A snapshot that starts with `{` is the JSON form the first 0.3 builds wrote; it still loads.
public enum DurableState {
    public static let magic: [UInt8] = Array("ANDS".utf8)
    /// 5: shelves and stations out of service (`EscalationEngine.stateFormat`); 4: drills; 3: incidents with owners,
    /// grace, arrival and reminders; 2: the window keeps message digests; 1 kept the messages. 1 to 4 read still.
    public static let version: UInt8 = UInt8(EscalationEngine.stateFormat)

    public static func encode(engine: EscalationEngine, window: SequenceWindow) -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 4096 + engine.openIncidentCount * 128 + window.count * 96)
        writer.write(bytes: magic)
        writer.write(byte: version)
        engine.encodeState(into: &writer)
        window.encode(into: &writer)
        return writer.bytes
    }

    /// The engine under `plant` (the configuration the snapshot was taken under) and the window.
    public static func decode(
        _ data: Data,
        plant: Plant
    ) throws(BinaryFormatError) -> (EscalationEngine, SequenceWindow) {
        if data.first == UInt8(ascii: "{") {
            do {
                let legacy = try JSONDecoder().decode(Legacy.self, from: data)
                return (EscalationEngine(plant: plant, restoring: legacy.engine), legacy.window)
            } catch {
                throw BinaryFormatError(offset: 0, reason: "a JSON snapshot that does not decode: \(error)")
            }
        }
        // `withUnsafeBytes` rethrows untyped: carry the typed error out in a Result.
        let result = data.withUnsafeBytes { buffer in
            Result { () throws(BinaryFormatError) in
                try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in
                    guard Array(try reader.readBytes(magic.count)) == magic else {
                        throw BinaryFormatError(offset: 0, reason: "not an andond snapshot")
                    }
                    let found = try reader.readByte()
                    guard (1...version).contains(found) else {
                        throw reader.failure("snapshot format \(found), this andond reads formats 1 to \(version)")
                    }
                    let engine = try EscalationEngine(
                        plant: plant,
                        decoding: &reader,
                        format: found >= 3 ? Int(found) : 2
                    )
                    let window = try SequenceWindow(decoding: &reader, keepsMessages: found == 1)
                    guard reader.remaining == 0 else {
                        throw reader.failure("\(reader.remaining) bytes after the end")
                    }
                    return (engine, window)
                }
            }
        }
        return try result.get()
    }

    /// The JSON form of the first 0.3 builds.
    private struct Legacy: Decodable {
        var engine: EngineSnapshot
        var window: SequenceWindow
    }
}
