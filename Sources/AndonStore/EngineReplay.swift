import AndonConfig
import AndonCore
import AndonProtocol

/// The one snapshot-then-log loop: andond's restore and `andonctl replay` both rebuild the engine here. The engine
/// starts from a snapshot, under the configuration recorded with it, and takes each stored input through
/// `EngineInput.apply`, as the live daemon did; the retransmit window remembers each signal's reply as the live path
/// does (`SequenceWindow.remember`).
public struct EngineReplay {
    /// Nil until a snapshot or the log's first configuration creates it.
    public private(set) var engine: EscalationEngine?
    public private(set) var window = SequenceWindow()
    /// The configuration the engine runs under: the snapshot's, then each one the log swapped in.
    public private(set) var lastConfiguration: (file: String, text: String)?
    /// What could not be taken, for people: an input that no longer reads, a snapshot configuration that no longer
    /// loads.
    public private(set) var skipped: [String] = []
    /// Inputs applied so far.
    public private(set) var replayed = 0
    let firstIncidentNumber: UInt64

    /// Starts from `snapshot`, or from nothing (the log's first configuration creates the engine). When the
    /// snapshot's configuration no longer loads, its calls follow `fallback`; without one, that throws.
    ///
    /// - Throws: `InputLogError` for a snapshot whose state cannot be read, or whose configuration does not load and
    ///   there is no fallback.
    public init(snapshot: StoredSnapshot?, firstIncidentNumber: UInt64, fallback: Plant? = nil) throws(InputLogError) {
        self.firstIncidentNumber = firstIncidentNumber
        guard let snapshot else { return }
        let plant: Plant
        do {
            plant = try ConfigurationLoader.parse(
                snapshot.configuration,
                file: snapshot.configurationFile,
                now: Instant(millisecondsSinceEpoch: snapshot.at),
                kpoGaps: .leaveToCaller
            ).plant
        } catch {
            guard let fallback else {
                throw InputLogError(
                    sequence: snapshot.inputSequence,
                    reason: "the configuration of the snapshot after it no longer loads: "
                        + (error.errors.first?.description ?? "\(error)")
                )
            }
            plant = fallback
            skipped.append("the snapshot's configuration no longer loads; its calls follow the current one")
        }
        do {
            (engine, window) = try DurableState.decode(snapshot.state, plant: plant)
        } catch {
            throw InputLogError(
                sequence: snapshot.inputSequence,
                reason: "the snapshot after it cannot be read: \(error)"
            )
        }
        lastConfiguration = (snapshot.configurationFile, snapshot.configuration)
    }

    /// Takes one stored input: what it was and what it did, or nil when it no longer reads (then it is in `skipped`).
    @discardableResult
    public mutating func apply(_ stored: StoredInput) -> (input: EngineInput, outcome: EngineInput.Outcome)? {
        let input: EngineInput
        switch EngineInput.decode(stored) {
        case .failure(let error):
            skipped.append(error.description)
            return nil
        case .success(let decoded):
            input = decoded
        }
        let at = Instant(millisecondsSinceEpoch: stored.at)
        let outcome = input.apply(to: &engine, at: at, firstIncidentNumber: firstIncidentNumber)
        replayed += 1
        if case .configuration(let recorded) = input { lastConfiguration = (recorded.file, recorded.text) }
        if case .signal(_, let sequence, _, _, _) = input, case .signal(let result) = outcome, let plant = engine?.plant
        {
            window.remember(Reply.signal(result, sequence: sequence, plant: plant), to: input, at: at)
        }
        return (input, outcome)
    }
}
