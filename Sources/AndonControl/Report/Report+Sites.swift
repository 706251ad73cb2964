import AndonCore

/// The site comparison of a report over several sites (a central journal): one row per site in text, CSV and HTML.
extension Report {
    /// `By site` for the text report; nothing for one site.
    func siteLines() -> [String] {
        guard let bySite, !bySite.isEmpty else { return [] }
        let rows = bySite.map { site -> [String] in
            let r = site.response
            return [
                site.site, String(r.calls), Self.spreadText(r.acknowledge?.median), Self.spreadText(r.acknowledge?.p90),
                Self.spreadText(r.arrive?.median), Self.spreadText(r.resolve?.median), String(r.escalations),
                String(r.reachedKPO), String(site.stops), Self.minutes(site.stopMinutes),
            ]
        }
        return ["", "By site"]
            + Self.table(
                [
                    "SITE", "CALLS", "ACK MEDIAN", "ACK P90", "ARRIVE MEDIAN", "RESOLVE MEDIAN", "ESCALATED", "KPO",
                    "STOPS", "STOP MIN",
                ],
                rows,
                right: Array(1...9)
            )
    }

    /// The HTML section: a table, and each site's median time to acknowledge and stop minutes side by side.
    func siteSection() -> String {
        guard let bySite, !bySite.isEmpty else { return "" }
        var html = "<h2>Sites compared</h2>"
        html += Self.htmlTable(
            [
                "Site", "Calls", "Ack median", "Ack p90", "Arrive median", "Resolve median", "Escalated", "KPO",
                "Stops", "Stop minutes",
            ],
            bySite.map { site in
                let r = site.response
                return [
                    site.site, String(r.calls), Self.spreadText(r.acknowledge?.median),
                    Self.spreadText(r.acknowledge?.p90), Self.spreadText(r.arrive?.median),
                    Self.spreadText(r.resolve?.median), String(r.escalations), String(r.reachedKPO), String(site.stops),
                    Self.minutes(site.stopMinutes),
                ]
            }
        )
        return html + Self.siteChart(bySite)
    }

    /// Two bar panels, one row per site: the median time to acknowledge and the line-stop minutes.
    static func siteChart(_ sites: [Site]) -> String {
        let rowHeight = 28.0
        let labelWidth = 180.0
        let panelWidth = 360.0
        let gap = 60.0
        let top = 40.0
        let width = labelWidth + 2 * panelWidth + gap + 20
        let height = top + rowHeight * Double(sites.count) + 10
        let acknowledge = sites.map { $0.response.acknowledge?.median ?? 0 }
        let stops = sites.map(\.stopMinutes)
        var svg = svgOpen(width, height, "Sites compared")
        let panels: [(String, [Double], (Double) -> String, String, Double)] = [
            ("median time to acknowledge", acknowledge, { duration($0) }, "#1f5fa8", labelWidth),
            ("line-stop minutes", stops, { minutes($0) }, "#c0392b", labelWidth + panelWidth + gap),
        ]
        for (title, values, label, color, left) in panels {
            svg += "<text x=\"\(svgNumber(left))\" y=\"20\" font-size=\"15\">\(escape(title))</text>"
            let most = max(values.max() ?? 0, 0.1)
            for (index, value) in values.enumerated() {
                let y = top + rowHeight * Double(index)
                let length = (panelWidth - 70) * value / most
                svg +=
                    "<rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(y + 4))\" width=\"\(svgNumber(length))\" "
                    + "height=\"\(svgNumber(rowHeight - 8))\" fill=\"\(color)\"/>"
                svg +=
                    "<text x=\"\(svgNumber(left + length + 6))\" y=\"\(svgNumber(y + rowHeight - 9))\" "
                    + "font-size=\"14\">\(escape(label(value)))</text>"
            }
        }
        for (index, site) in sites.enumerated() {
            let y = top + rowHeight * Double(index) + rowHeight - 9
            svg +=
                "<text x=\"\(svgNumber(labelWidth - 10))\" y=\"\(svgNumber(y))\" font-size=\"15\" "
                + "text-anchor=\"end\">\(escape(site.site))</text>"
        }
        return svg + "</svg>"
    }

    private static func spreadText(_ value: Double?) -> String { value.map { duration($0) } ?? "-" }
}
