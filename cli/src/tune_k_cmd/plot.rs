//! The SVG plot: overhead and work lost on a kill against K, log-log, with
//! the overhead target and the recommended K marked.

use std::path::Path;

use plotters::prelude::*;

use super::TuneError;
use super::model::Row;
use super::report::format_seconds;

/// Pixel size of the plot.
const SIZE_PIXELS: (u32, u32) = (900, 560);

/// What the plot shows.
pub struct PlotInput<'a> {
    /// The table, K ascending.
    pub rows: &'a [Row],
    /// The overhead target, as a fraction.
    pub max_overhead_fraction: f64,
    /// The recommended K.
    pub recommended: u64,
    /// A line under the title (disk, item cost, commit cost).
    pub subtitle: String,
}

/// Writes the plot to `path` (the file is complete when this returns `Ok`).
pub fn write_svg(path: &Path, input: &PlotInput<'_>) -> Result<(), TuneError> {
    draw(path, input).map_err(|message| TuneError::Plot {
        path: path.to_path_buf(),
        message,
    })
}

fn draw(path: &Path, input: &PlotInput<'_>) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
    let (Some(first), Some(last)) = (input.rows.first(), input.rows.last()) else {
        return Err("no rows to plot".into());
    };
    let k_range = (first.checkpoint_every as f64)..(last.checkpoint_every as f64).max(2.0);
    let overhead_percent = |r: &Row| r.overhead_fraction * 100.0;
    let overhead_p90_percent = |r: &Row| r.overhead_fraction_p90 * 100.0;
    let target_percent = input.max_overhead_fraction * 100.0;
    let (o_min, o_max) = bounds(
        input
            .rows
            .iter()
            .map(overhead_percent)
            .chain(input.rows.iter().map(overhead_p90_percent))
            .chain([target_percent]),
    );
    let (l_min, l_max) = bounds(input.rows.iter().map(|r| r.seconds_at_risk_max));

    let root = SVGBackend::new(path, SIZE_PIXELS).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (title_area, chart_area) = root.split_vertically(60);
    title_area
        .titled(
            "crashproof tune-k: checkpoint overhead and work lost on a kill",
            ("sans-serif", 22),
        )
        .map_err(err)?
        .draw_text(
            &input.subtitle,
            &("sans-serif", 14).into_text_style(&title_area),
            (10, 5),
        )
        .map_err(err)?;

    let mut chart = ChartBuilder::on(&chart_area)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .right_y_label_area_size(80)
        .build_cartesian_2d(k_range.clone().log_scale(), (o_min..o_max).log_scale())
        .map_err(err)?
        .set_secondary_coord(k_range.clone().log_scale(), (l_min..l_max).log_scale());
    chart
        .configure_mesh()
        .x_desc("K: items per checkpoint (T = K x item cost)")
        .y_desc("overhead, % of work time")
        .x_label_formatter(&|k| format!("{k:.0}"))
        .y_label_formatter(&|p| format!("{p}%"))
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc("work lost on a kill, at most")
        .y_label_formatter(&|s| format_seconds(*s))
        .draw()
        .map_err(err)?;

    chart
        .draw_series(LineSeries::new(
            input
                .rows
                .iter()
                .map(|r| (r.checkpoint_every as f64, overhead_percent(r))),
            RED.stroke_width(2),
        ))
        .map_err(err)?
        .label("overhead, median round (left axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            input
                .rows
                .iter()
                .map(|r| (r.checkpoint_every as f64, overhead_p90_percent(r))),
            MAGENTA.stroke_width(2),
        ))
        .map_err(err)?
        .label("overhead, p90 round (left axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(
            input
                .rows
                .iter()
                .map(|r| (r.checkpoint_every as f64, r.seconds_at_risk_max)),
            BLUE.stroke_width(2),
        ))
        .map_err(err)?
        .label("work lost on a kill, at most (right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            [
                (k_range.start, target_percent),
                (k_range.end, target_percent),
            ],
            RED.mix(0.4),
        ))
        .map_err(err)?
        .label(format!("overhead target {target_percent}%"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.mix(0.4)));
    let k = input.recommended as f64;
    chart
        .draw_series(LineSeries::new(
            [(k, o_min), (k, o_max)],
            GREEN.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!("recommended K = {}", input.recommended))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// A log axis range holding every value: half the smallest to twice the
/// largest (positive values only; 1e-9..1 when there are none).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (min, max) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if min.is_finite() {
        (min / 2.0, max * 2.0)
    } else {
        (1e-9, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_every_positive_value() {
        assert_eq!(bounds([2.0, 8.0, 0.0, f64::NAN].into_iter()), (1.0, 16.0));
        assert_eq!(bounds(std::iter::empty()), (1e-9, 1.0));
    }
}
