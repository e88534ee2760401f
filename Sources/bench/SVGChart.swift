import Foundation

/// A horizontal bar chart drawn as a standalone SVG document: a title (and an optional subtitle),
/// one bar per row with its label on the left and its value text at the bar's end, and a value axis
/// with round ticks and a unit underneath.
///
/// The benches use it to keep a picture of the figures a run measured next to their markdown
/// tables (`bench worker --chart PATH`, `bench api --chart PATH`). It needs nothing beyond
/// Foundation, and the SVG it draws needs no fonts, scripts or styles from outside.
///
/// ```swift
/// let chart = SVGChart(title: "No-op drain", unit: "jobs/s", bars: [
///     .init(label: "Swift", value: 4_761, note: "26.9×"),
///     .init(label: "Python SimpleWorker", value: 177, color: SVGChart.pythonColor),
/// ])
/// try chart.write(toFile: "docs/benchmarks/worker.svg")
/// ```
struct SVGChart: Sendable {
    /// One row of the chart.
    struct Bar: Sendable {
        /// The text left of the bar.
        var label: String
        /// The bar's length, in the chart's ``SVGChart/unit``; negative values are drawn as 0.
        var value: Double
        /// Extra text after the value, e.g. a ratio (`"26.9×"`).
        var note: String?
        /// The bar's fill, any SVG colour.
        var color: String

        /// A bar of `value` labelled `label`, in ``SVGChart/swiftColor`` unless told otherwise.
        init(label: String, value: Double, note: String? = nil, color: String = SVGChart.swiftColor) {
            self.label = label
            self.value = value
            self.note = note
            self.color = color
        }
    }

    /// The fill of the project's own bars.
    static let swiftColor = "#e8573c"
    /// The fill of the Python reference bars.
    static let pythonColor = "#3776ab"

    /// The heading, drawn in bold at the top.
    var title: String
    /// A smaller line under the title (sizes, date), or none.
    var subtitle: String?
    /// The unit of the values, written under the axis and after each value.
    var unit: String
    /// The rows, top to bottom.
    var bars: [Bar]
    /// The width of the whole drawing in pixels; the height follows from the number of bars.
    var width = 820

    /// A chart titled `title` of `bars` measured in `unit`.
    init(title: String, subtitle: String? = nil, unit: String, bars: [Bar], width: Int = 820) {
        self.title = title
        self.subtitle = subtitle
        self.unit = unit
        self.bars = bars
        self.width = width
    }

    // Layout, in pixels.
    private static let margin = 16.0
    private static let rowHeight = 30.0
    private static let barHeight = 20.0
    private static let fontSize = 13.0
    /// A rough advance per character at ``fontSize`` (no font metrics without a renderer).
    private static let characterWidth = 6.8

    /// The whole SVG document, from the XML declaration to `</svg>`.
    func render() -> String {
        let margin = Self.margin
        let labelWidth = min(Double(width) * 0.45, Double(bars.map(\.label.count).max() ?? 0) * Self.characterWidth + 8)
        let plotLeft = margin + labelWidth
        let axis = Self.axis(maximum: bars.map(\.value).max() ?? 0)
        // As wide as the value texts at the bars' ends allow (and half the last tick label).
        let available = Double(width) - plotLeft - margin
        var plotWidth = available - 24
        for bar in bars where bar.value > 0 {
            let textWidth = Double(valueText(bar).count) * Self.characterWidth + 6
            plotWidth = min(plotWidth, (available - textWidth) / (bar.value / axis.maximum))
        }
        plotWidth = max(40, plotWidth)
        let top = margin + 22 + (subtitle == nil ? 0 : 20) + 8
        let plotHeight = Double(bars.count) * Self.rowHeight
        let height = top + plotHeight + 52
        func x(_ value: Double) -> Double { plotLeft + plotWidth * max(0, value) / axis.maximum }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(Self.number(height))" \
            viewBox="0 0 \(width) \(Self.number(height))" font-family="Helvetica, Arial, sans-serif" \
            font-size="\(Self.number(Self.fontSize))">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(Self.number(margin))" y="\(Self.number(margin + 16))" font-size="17" font-weight="bold" \
            fill="#222222">\(Self.escaped(title))</text>

            """
        if let subtitle {
            svg += "<text x=\"\(Self.number(margin))\" y=\"\(Self.number(margin + 38))\" fill=\"#555555\">\(Self.escaped(subtitle))</text>\n"
        }
        // Grid lines and tick labels under the bars.
        let step = axis.ticks.count > 1 ? axis.ticks[1] - axis.ticks[0] : 1
        let decimals = step >= 1 ? 0 : Int((-log10(step)).rounded(.up))
        for tick in axis.ticks {
            let tickX = Self.number(x(tick))
            svg += "<line x1=\"\(tickX)\" y1=\"\(Self.number(top))\" x2=\"\(tickX)\" y2=\"\(Self.number(top + plotHeight))\" stroke=\"#e3e3e3\"/>\n"
            svg += "<text x=\"\(tickX)\" y=\"\(Self.number(top + plotHeight + 18))\" text-anchor=\"middle\" fill=\"#555555\">"
                + (decimals == 0 ? Self.grouped(tick) : String(format: "%.\(decimals)f", tick)) + "</text>\n"
        }
        for (index, bar) in bars.enumerated() {
            let rowTop = top + Double(index) * Self.rowHeight
            let barTop = rowTop + (Self.rowHeight - Self.barHeight) / 2
            let textY = Self.number(rowTop + Self.rowHeight / 2 + Self.fontSize * 0.35)
            let barWidth = x(bar.value) - plotLeft
            svg += "<text x=\"\(Self.number(plotLeft - 8))\" y=\"\(textY)\" text-anchor=\"end\" fill=\"#222222\">\(Self.escaped(bar.label))</text>\n"
            svg += "<rect x=\"\(Self.number(plotLeft))\" y=\"\(Self.number(barTop))\" width=\"\(Self.number(barWidth))\" "
                + "height=\"\(Self.number(Self.barHeight))\" fill=\"\(Self.escaped(bar.color))\"/>\n"
            svg += "<text x=\"\(Self.number(plotLeft + barWidth + 6))\" y=\"\(textY)\" fill=\"#222222\">\(Self.escaped(valueText(bar)))</text>\n"
        }
        let axisY = Self.number(top + plotHeight)
        svg += "<line x1=\"\(Self.number(plotLeft))\" y1=\"\(axisY)\" x2=\"\(Self.number(plotLeft + plotWidth))\" y2=\"\(axisY)\" stroke=\"#888888\"/>\n"
        svg += "<text x=\"\(Self.number(plotLeft + plotWidth / 2))\" y=\"\(Self.number(top + plotHeight + 40))\" text-anchor=\"middle\" "
            + "fill=\"#555555\">\(Self.escaped(unit))</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// Writes ``render()`` to `path` (UTF-8), creating its folder if needed.
    func write(toFile path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(render().utf8).write(to: url, options: .atomic)
    }

    /// The text at a bar's end: its value, the unit and the note.
    private func valueText(_ bar: Bar) -> String {
        var text = "\(Self.grouped(bar.value)) \(unit)"
        if let note = bar.note, !note.isEmpty { text += " (\(note))" }
        return text
    }

    /// The axis end and its ticks: a step of 1, 2 or 5 × 10ⁿ giving at most about five intervals.
    static func axis(maximum: Double) -> (maximum: Double, ticks: [Double]) {
        guard maximum.isFinite, maximum > 0 else { return (1, [0, 1]) }
        let rough = maximum / 5
        let power = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        let end = (maximum / step).rounded(.up) * step
        let count = Int((end / step).rounded())
        return (end, (0...count).map { Double($0) * step })
    }

    /// `value` with digit groups split by a thin space (`4 761`), one decimal under 100.
    static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if abs(value) < 100 && value != value.rounded() { return String(format: "%.1f", value) }
        let digits = String(format: "%.0f", abs(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "\u{2009}" }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A coordinate with at most one decimal (`12`, `12.5`).
    private static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// `text` with the five XML special characters escaped.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
