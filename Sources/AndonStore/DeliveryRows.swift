import AndonCore
import Foundation
import GRDB

/// The delivery outbox in the state database: one row per delivery, written with the input whose event created it
/// and rewritten with each reported attempt (`CommitBatch.deliveries`).
extension StateStore {
    /// The deliveries still pending, with the ended ones of the same events (so that "nobody was reached" is judged
    /// on every delivery of an event), the most recent failures, and the next delivery number.
    public func loadDeliveries(failuresKept: Int = 1000) throws(StoreError) -> (deliveries: [Delivery], nextID: Int64) {
        do {
            return try queue.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM delivery WHERE event_id IN (SELECT event_id FROM delivery WHERE state = 0)
                        UNION SELECT * FROM (SELECT * FROM delivery WHERE state = 2 ORDER BY id DESC LIMIT ?)
                        ORDER BY id
                        """,
                    arguments: [failuresKept]
                )
                let next = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM delivery") ?? 0) + 1
                return (try rows.map(Self.delivery), next)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "cannot read the delivery outbox from \(path): \(Self.describe(error))")
        }
    }

    /// The deliveries whose acknowledge link was used (kept as long as ended deliveries).
    public func usedAckTokens() throws(StoreError) -> Set<Int64> {
        do {
            return try queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT delivery FROM ack_token_used")) }
        } catch {
            throw StoreError(.corrupt, "cannot read the used acknowledge links from \(path): \(Self.describe(error))")
        }
    }

    static func delivery(_ row: Row) throws -> Delivery {
        let decoder = JSONDecoder()
        let content = try decoder.decode(NotificationContent.self, from: Data((row["content"] as String).utf8))
        let parameters = try decoder.decode([String: String].self, from: Data((row["parameters"] as String).utf8))
        guard let recipient = Recipient(row["recipient"] as String) else {
            throw StoreError(.corrupt, "a delivery names a recipient that is not one: \(row["recipient"] as String)")
        }
        var delivery = Delivery(
            id: row["id"],
            eventID: row["event_id"],
            recipient: recipient,
            channel: ChannelRef(channel: ChannelID(rawValue: row["channel"]), parameters: parameters),
            content: content,
            createdAt: Instant(millisecondsSinceEpoch: row["created_at"]),
            giveUpAfter: .zero
        )
        delivery.giveUpAt = Instant(millisecondsSinceEpoch: row["give_up_at"])
        delivery.state = Delivery.State(rawValue: row["state"]) ?? .pending
        delivery.attempts = row["attempts"]
        delivery.nextAt = Instant(millisecondsSinceEpoch: row["next_at"])
        delivery.lastStatus = row["last_status"]
        delivery.lastError = row["last_error"]
        delivery.endedAt = (row["ended_at"] as Int64?).map(Instant.init(millisecondsSinceEpoch:))
        return delivery
    }

    static func write(_ deliveries: [Delivery], in db: Database) throws {
        guard !deliveries.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO delivery(id, event_id, incident, recipient, channel, parameters, purpose,
                    content, created_at, give_up_at, state, attempts, next_at, last_status, last_error, ended_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for delivery in deliveries {
            let content = String(decoding: try encoder.encode(delivery.content), as: UTF8.self)
            let parameters = String(decoding: try encoder.encode(delivery.channel.parameters), as: UTF8.self)
            try statement.execute(arguments: [
                delivery.id, delivery.eventID, Int64(bitPattern: delivery.content.incident.number),
                delivery.recipient.description, delivery.channel.channel.rawValue, parameters,
                delivery.content.purpose.rawValue, content, delivery.createdAt.millisecondsSinceEpoch,
                delivery.giveUpAt.millisecondsSinceEpoch, delivery.state.rawValue, delivery.attempts,
                delivery.nextAt.millisecondsSinceEpoch, delivery.lastStatus, delivery.lastError,
                delivery.endedAt?.millisecondsSinceEpoch,
            ])
        }
    }

    /// What an attempt changed: the row's progress only (its content was written when it was created).
    static func update(_ deliveries: [Delivery], in db: Database) throws {
        guard !deliveries.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, ended_at = ?
                WHERE id = ?
                """
        )
        for delivery in deliveries {
            try statement.execute(arguments: [
                delivery.state.rawValue, delivery.attempts, delivery.nextAt.millisecondsSinceEpoch, delivery.lastStatus,
                delivery.lastError, delivery.endedAt?.millisecondsSinceEpoch, delivery.id,
            ])
        }
    }

    /// Ended deliveries are kept this long for `andonctl deliveries` and the report, then deleted with a snapshot.
    public static let endedDeliveriesKeptFor = Duration.seconds(7 * 86_400)
}
