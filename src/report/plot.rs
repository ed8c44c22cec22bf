//! SVG line charts, drawn with plotters: the probes' line chart, and the pieces every parlab
//! plot shares (palette, legend, the document and its errors), which the speedup plot uses too.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::probe::Series;

/// Line colours: distinct, and readable on white.
pub(crate) const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// What plotters' drawing calls fail with.
pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// An SVG document of `width` x `height` on a white ground, drawn by `draw`; `what` names the
/// plot in the error when drawing fails.
pub(crate) fn svg_document(
    (width, height): (u32, u32),
    what: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> Result<String> {
    let mut svg = String::new();
    let drawn = (|| -> DrawResult {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| {
        Error::io(
            format!("drawing {what}"),
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(svg)
}

/// A chart on `root` with parlab's caption, margins and axis label areas (`y_labels` pixels
/// for the y axis's labels).
pub(crate) fn titled<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    y_labels: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(y_labels);
    builder
}

/// The legend's sample of a line in `style`.
pub(crate) fn legend_line(
    style: impl Into<ShapeStyle>,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)
}

/// The legend's sample of a line drawn in `dash` pixels on, `gap` off (as a
/// `DashedLineSeries` of the same pattern draws it), in `style`.
pub(crate) fn legend_dashed(
    style: impl Into<ShapeStyle>,
    (dash, gap): (i32, i32),
) -> impl Fn((i32, i32)) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    let style = style.into();
    move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], dash, gap, style)
}

/// Draws the legend in the upper left corner, on a light box.
pub(crate) fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

/// A line chart of `series` (with points marked) as an SVG document. The y axis is
/// logarithmic, so series that differ by orders of magnitude stay readable side by side.
pub fn line_chart(title: &str, x_desc: &str, y_desc: &str, series: &[Series]) -> Result<String> {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let x_max = points().fold(0.0f64, |m, p| m.max(p.0)).max(1.0) * 1.05;
    let y_max = points().fold(0.0f64, |m, p| m.max(p.1)).max(1e-3) * 2.0;
    let y_min = points()
        .map(|p| p.1)
        .filter(|y| *y > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(y_max / 10.0)
        / 2.0;
    svg_document((800, 480), "the plot", |root| {
        let mut chart =
            titled(root, title, 64).build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(("sans-serif", 14))
            .draw()?;
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()].to_rgba();
            chart
                .draw_series(LineSeries::new(s.points.clone(), color.stroke_width(2)))?
                .label(s.label.clone())
                .legend(legend_line(color.stroke_width(2)));
            chart.draw_series(
                s.points
                    .iter()
                    .filter(|p| p.1 > 0.0)
                    .map(|&p| Circle::new(p, 4, color.filled())),
            )?;
        }
        draw_legend(&mut chart)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::element::{Drawable, PointCollection};

    /// The SVG of one legend swatch drawn by `swatch` at (10, 20).
    fn swatch<E>(swatch: impl Fn((i32, i32)) -> E) -> String
    where
        E: for<'a> Drawable<SVGBackend<'a>>,
        for<'b> &'b E: PointCollection<'b, (i32, i32)>,
    {
        svg_document((60, 40), "a swatch", |root| {
            root.draw(&swatch((10, 20)))?;
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn a_dashed_line_has_a_dashed_swatch_and_a_solid_one_a_solid_swatch() {
        // 24 pixels of 6 on, 4 off: three dashes; of 3 on, 3 off: four.
        assert_eq!(
            swatch(legend_dashed(BLACK, (6, 4)))
                .matches("<polyline")
                .count(),
            3
        );
        assert_eq!(
            swatch(legend_dashed(BLACK, (3, 3)))
                .matches("<polyline")
                .count(),
            4
        );
        assert_eq!(swatch(legend_line(BLACK)).matches("<polyline").count(), 1);
    }
}
