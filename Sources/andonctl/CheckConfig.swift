import AndonConfig
import AndonCore
import AndonSystemd
import ArgumentParser

extension Andonctl {
    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Validate a configuration file and report every problem at once.",
            discussion: """
                Prints each problem as FILE:LINE:COLUMN: error|warning: MESSAGE, with a hint. Exits 0 when the \
                configuration is valid (warnings are printed but do not fail it) and 1 when it has errors. Rota \
                coverage is checked for the 14 days from --at (default: now): a minute without KPO is an error, \
                a gap in another tier's rota a warning.
                """
        )

        @Argument(help: "The configuration file.")
        var file: String = "/etc/andond/andond.yaml"

        @Option(help: "Check rota coverage from this time instead of now (local \"YYYY-MM-DD HH:MM\" or ISO 8601).")
        var at: String?

        @Flag(help: "Print the verdict as JSON: valid, the counts, and every diagnostic with its position.")
        var json = false

        func validate() throws { _ = try at.map(TimeArgument.init(parsing:)) }

        func run() throws {
            let now = SystemClock().now
            let start = try at.map(TimeArgument.init(parsing:))
            do {
                var configuration = try ConfigurationLoader.load(path: file) { zone in start?.instant(in: zone) ?? now }
                // The lines' key files too: andond refuses to start or reload without them.
                try configuration.loadKeys()
                let plant = configuration.plant
                let warnings = configuration.warnings.count
                if json {
                    print(
                        #"{"chains":\#(plant.policies.count),"diagnostics":\#(Self.json(configuration.warnings)),"#
                            + #""file":\#(jsonString(file)),"lines":\#(plant.lines.count),"#
                            + #""responders":\#(plant.responders.count),"rotas":\#(plant.rotas.count),"valid":true}"#
                    )
                    return
                }
                for warning in configuration.warnings { printError(warning.description) }
                print(
                    "\(file): valid: \(plant.lines.count) lines, \(plant.rotas.count) rotas, \(plant.policies.count) chains, "
                        + "\(plant.responders.count) responders; \(warnings) warning\(warnings == 1 ? "" : "s")"
                )
            } catch {
                if json {
                    print(
                        #"{"diagnostics":\#(Self.json(error.diagnostics)),"file":\#(jsonString(file)),"valid":false}"#
                    )
                    throw ExitCode.failure
                }
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                let errors = error.errors.count
                printError("\(file): invalid: \(errors) error\(errors == 1 ? "" : "s")")
                throw ExitCode.failure
            }
        }

        /// Diagnostics as a JSON array: file, line, column, severity, message, hint.
        static func json(_ diagnostics: [Diagnostic]) -> String {
            "["
                + diagnostics.map { diagnostic in
                    var fields = [
                        #""column":\#(diagnostic.column)"#, #""file":\#(jsonString(diagnostic.file))"#,
                    ]
                    if let hint = diagnostic.hint { fields.append(#""hint":\#(jsonString(hint))"#) }
                    fields += [
                        #""line":\#(diagnostic.line)"#, #""message":\#(jsonString(diagnostic.message))"#,
                        #""severity":\#(jsonString(diagnostic.severity.rawValue))"#,
                    ]
                    return "{" + fields.joined(separator: ",") + "}"
                }
                .joined(separator: ",") + "]"
        }
    }
}
