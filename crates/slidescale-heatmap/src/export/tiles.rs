//! A heatmap as QuPath tile objects: one GeoJSON feature per scored grid
//! cell, `"objectType": "tile"`, its level-0 square as geometry and its
//! scores as `measurements`, so that QuPath's measurement maps colour the
//! grid. Object type and measurement form as QuPath writes them
//! (qupath/qupath `qupath-core/src/main/java/qupath/lib/io/PathObjectTypeAdapters.java`:
//! `MAP_TYPES` gives `PathTileObject` → `"tile"`;
//! `MeasurementListTypeAdapter.write` a name → number object).

use slidescale_viewer::geojson::{Feature, Geometry, ObjectType};

use crate::meta::HeatmapMeta;

/// The measurement of a cell with one score (stride = tile).
pub const SCORE: &str = "Score";
/// The measurements of a cell with several scores: their mean and maximum.
pub const SCORE_MEAN: &str = "Score: mean";
pub const SCORE_MAX: &str = "Score: max";

/// Every grid cell of the heatmap `values` (row-major, `meta.shape`) that
/// has at least one score, row by row. A cell is `tile / stride` heatmap
/// pixels a side; its square, in level-0 pixels through
/// [`HeatmapMeta::level0_per_pixel`], is clipped to the slide's extent.
/// Its measurements are [`SCORE`] when it has one heatmap pixel, else
/// [`SCORE_MEAN`] and [`SCORE_MAX`] over its scored pixels.
pub fn tile_features(meta: &HeatmapMeta, values: &[f32]) -> Vec<Feature> {
    let n = (meta.tile / meta.stride).max(1) as usize;
    let [rows, cols] = [meta.shape[0] as usize, meta.shape[1] as usize];
    let side = n as f64 * meta.level0_per_pixel();
    let (sw, sh) = (meta.level0_width as f64, meta.level0_height as f64);
    let mut features = Vec::new();
    for cr in 0..rows.div_ceil(n) {
        for cc in 0..cols.div_ceil(n) {
            let (x0, y0) = (cc as f64 * side, cr as f64 * side);
            if x0 >= sw || y0 >= sh {
                continue; // a cell wholly past the slide: nothing to show
            }
            let scores: Vec<f32> = (cr * n..((cr + 1) * n).min(rows))
                .flat_map(|r| values[r * cols + cc * n..r * cols + ((cc + 1) * n).min(cols)].iter())
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            if scores.is_empty() {
                continue;
            }
            let measurements = if n == 1 {
                vec![(SCORE.to_string(), scores[0] as f64)]
            } else {
                let mean = scores.iter().map(|&v| v as f64).sum::<f64>() / scores.len() as f64;
                let max = scores.iter().copied().fold(f32::MIN, f32::max);
                vec![
                    (SCORE_MEAN.to_string(), mean),
                    (SCORE_MAX.to_string(), max as f64),
                ]
            };
            let (x1, y1) = ((x0 + side).min(sw), (y0 + side).min(sh));
            features.push(Feature {
                geometry: Geometry::Polygon(vec![vec![
                    [x0, y0],
                    [x1, y0],
                    [x1, y1],
                    [x0, y1],
                    [x0, y0],
                ]]),
                object_type: ObjectType::Tile,
                name: None,
                classification: None,
                measurements,
            });
        }
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::pyramid::tests::meta;

    #[test]
    fn scored_cells_become_tiles_clipped_to_the_slide() {
        let nan = f32::NAN;
        // stride 112: cells of 2×2 pixels; a 2×4 heatmap is 1×2 cells on
        // a 300×200 slide. The right cell has no score.
        let values = [0.2, 0.6, nan, nan, nan, 0.4, nan, nan];
        let features = tile_features(&meta([2, 4], 112, (300, 200)), &values);
        assert_eq!(features.len(), 1);
        let f = &features[0];
        assert_eq!(f.object_type, ObjectType::Tile);
        assert_eq!(
            f.geometry,
            Geometry::Polygon(vec![vec![
                [0.0, 0.0],
                [224.0, 0.0],
                [224.0, 200.0],
                [0.0, 200.0],
                [0.0, 0.0]
            ]])
        );
        let mean = (0.2f32 as f64 + 0.6f32 as f64 + 0.4f32 as f64) / 3.0;
        assert_eq!(
            f.measurements,
            vec![
                (SCORE_MEAN.to_string(), mean),
                (SCORE_MAX.to_string(), 0.6f32 as f64)
            ]
        );
        // stride = tile: one score per cell, under its own name
        let one = tile_features(&meta([1, 2], 224, (300, 200)), &[0.5, nan]);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].measurements, vec![(SCORE.to_string(), 0.5)]);
    }
}
