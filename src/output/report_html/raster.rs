//! SVG charts drawn into PNG with resvg, at twice their size (for slides).
//!
//! Text is drawn with the DejaVu Sans font compiled into the binary
//! (`assets/fonts/`, its licence beside it), never with the system's fonts,
//! so a PNG is the same on every machine.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use crate::error::{Error, Result};

/// DejaVu Sans 2.37 (Bitstream Vera licence, assets/fonts/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Pixels per SVG unit in the PNG.
pub const SCALE: f32 = 2.0;

fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        usvg::Options {
            font_family: "DejaVu Sans".to_string(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

/// The SVG document drawn on white, as PNG bytes.
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let tree = usvg::Tree::from_str(svg, options())
        .map_err(|e| Error::Internal(format!("reading a chart's SVG: {e}")))?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * SCALE).ceil() as u32,
        (size.height() * SCALE).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| Error::Internal(format!("a chart of {w}x{h} pixels")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Internal(format!("encoding a chart as PNG: {e}")))
}
