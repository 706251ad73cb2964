import Foundation

extension JSONWriter {
    /// A value as JSON text, keys sorted, its invisible characters written as `\uXXXX` (see `escapingInvisibles`):
    /// the one way andond and andonctl turn a `Codable` value into JSON for a reply or for output.
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // The values encoded here are plain structs of strings, numbers, Booleans and arrays: encoding cannot fail.
        let data = try! encoder.encode(value)
        return escapingInvisibles(String(decoding: data, as: UTF8.self))
    }
}
