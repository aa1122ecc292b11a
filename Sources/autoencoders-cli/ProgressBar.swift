import Autoencoders

/// Training progress on stderr. One plain line per finished epoch, which stays (the loss history
/// remains visible):
///
///     epoch 3/20 loss 0.123400 val_loss 0.130100 lr 0.001 time 1.2s
///
/// and, on a terminal only, below them a live bar for the current epoch, redrawn in place at most
/// ~10 times a second and replaced by the epoch's line when the epoch ends:
///
///     epoch 4/20 [##########----------] 48% loss 0.1234 val 0.1301 lr 1.0e-03 ETA 0:42
///
/// (the bar and percentage cover the current epoch, the ETA the whole run; "val" is the last
/// epoch's validation loss).
///
/// For a variational autoencoder both also show the epoch's KL divergence per sample (unweighted)
/// after the loss: `loss 98.123400 kl 12.345600`.
final class ProgressBar {
    enum Style {
        case bar, lines, silent
    }

    static let barWidth = 20
    static let redrawInterval = 0.1

    let style: Style
    private var lastDraw = -Double.infinity
    private var lastEpochEnd = 0.0
    private var lastValidation: Double?
    private var lineOnScreen = false
    private let columns: Int?

    init(style: Style) {
        self.style = style
        columns = style == .bar ? Console.stderrColumns : nil
    }

    /// The style for this process: silent with --quiet, a bar when stderr is a terminal, else lines.
    static func forStderr(quiet: Bool) -> ProgressBar {
        ProgressBar(style: quiet ? .silent : Console.stderrIsTerminal ? .bar : .lines)
    }

    func update(_ progress: TrainingProgress) {
        if progress.isEpochEnd, let validation = progress.validationLoss { lastValidation = validation }
        switch style {
        case .silent:
            break
        case .lines:
            guard progress.isEpochEnd else { return }
            Console.errLine(epochLine(progress))
            lastEpochEnd = progress.elapsed
        case .bar:
            if progress.isEpochEnd {
                // The bar's line becomes the epoch's permanent line; the next bar starts below it.
                Console.err("\r" + epochLine(progress) + "\u{1B}[K\n")
                lastEpochEnd = progress.elapsed
                lineOnScreen = false
                return
            }
            // Each epoch's bar appears at its first batch, then at most every redrawInterval.
            guard progress.batch == 1 || progress.elapsed - lastDraw >= ProgressBar.redrawInterval else { return }
            lastDraw = progress.elapsed
            var line = barLine(progress)
            if let columns, line.count >= columns { line = String(line.prefix(max(columns - 1, 0))) }
            // "\r" back to the start, the line, then erase whatever a longer previous line left.
            Console.err("\r" + line + "\u{1B}[K")
            lineOnScreen = true
        }
    }

    /// Erases a live bar (an epoch stopped midway), so that what follows starts on a clean line.
    func finish() {
        if lineOnScreen { Console.err("\r\u{1B}[K") }
        lineOnScreen = false
    }

    func epochLine(_ p: TrainingProgress) -> String {
        var line = "epoch \(p.epoch + 1)/\(p.epochs) loss \(formatLoss(p.trainLoss, digits: 6))"
        if let kl = p.klDivergence { line += " kl \(formatLoss(kl, digits: 6))" }
        if let d = p.discriminatorLoss, let g = p.generatorLoss {
            line += " recon \(formatLoss(p.reconstructionLoss, digits: 6)) disc \(formatLoss(d, digits: 4)) gen \(formatLoss(g, digits: 4))"
        }
        if let validation = p.validationLoss { line += " val_loss \(formatLoss(validation, digits: 6))" }
        line += format(" lr %g time %.1fs", Double(p.learningRate), p.elapsed - lastEpochEnd)
        return line
    }

    func barLine(_ p: TrainingProgress) -> String {
        let epochFraction = p.batches > 0 ? Double(p.batch) / Double(p.batches) : 1
        let filled = min(ProgressBar.barWidth, Int(epochFraction * Double(ProgressBar.barWidth)))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: ProgressBar.barWidth - filled)
        var line = "epoch \(p.epoch + 1)/\(p.epochs) [\(bar)] " + format("%3d%%", Int(epochFraction * 100))
        line += " loss \(formatLoss(p.trainLoss, digits: 4))"
        if let kl = p.klDivergence { line += " kl \(formatLoss(kl, digits: 4))" }
        if let d = p.discriminatorLoss, let g = p.generatorLoss { line += " disc \(formatLoss(d, digits: 3)) gen \(formatLoss(g, digits: 3))" }
        if let lastValidation { line += " val \(formatLoss(lastValidation, digits: 4))" }
        line += format(" lr %.1e", Double(p.learningRate))
        let runFraction = (Double(p.epoch) + epochFraction) / Double(max(p.epochs, 1))
        if runFraction >= 1 {
            line += " done " + formatDuration(p.elapsed)
        } else if runFraction > 0 {
            line += " ETA " + formatDuration(p.elapsed / runFraction * (1 - runFraction))
        } else {
            line += " ETA --:--"
        }
        return line
    }
}
