//! Reading order from boxes alone: lines split at wide gaps, grouped into blocks, and the
//! blocks read column after column, or row by row where they form a table.
//!
//! Pure functions on pixel boxes, so the rules are tested without Tesseract. Tesseract's own
//! page layout merges the lines of neighbouring columns and table cells into one line on
//! screens (their gaps are narrower than on paper), so seesay redoes the order here.

use std::ops::Range;

/// A box `[x0, y0, x1, y1]` in pixels; `x1` and `y1` are exclusive.
pub type Rect = [i32; 4];

/// A horizontal gap wider than this many line heights splits a line (column gutters, table
/// cells, buttons); word spaces are about a third of a line height, monospace double spaces
/// about 1.3.
pub const SPLIT_GAP: f32 = 1.6;
/// Lines this many line heights apart or closer, one above the other, form one block.
pub const LINK_GAP: f32 = 1.2;
/// Lines whose heights differ more than this ratio stay in separate blocks (a heading).
pub const LINK_HEIGHT_RATIO: f32 = 1.5;
/// Lines of a block (but its last) at least this fraction of its width make it prose.
pub const PROSE_FILL: f32 = 0.7;
/// Prose columns are at least this many line heights wide (about 25 characters).
pub const PROSE_MIN_WIDTH: f32 = 10.0;
/// Side-by-side groups are a table when this fraction of their lines share a row.
pub const TABLE_ALIGNED: f32 = 0.6;

/// One piece of a line as seen by the layout: its box and its writing direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Where it is.
    pub rect: Rect,
    /// Whether its words run right to left.
    pub rtl: bool,
}

/// One line of the reading: the segments said together, in order, and the block they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Indices into the segments given to [`reading_order`]; more than one for a table row.
    pub segments: Vec<usize>,
    /// Which block, counted in reading order, the row belongs to.
    pub block: usize,
}

fn width(r: &Rect) -> i32 {
    r[2] - r[0]
}

fn height(r: &Rect) -> i32 {
    (r[3] - r[1]).max(1)
}

fn union(a: &Rect, b: &Rect) -> Rect {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

fn x_overlap(a: &Rect, b: &Rect) -> i32 {
    a[2].min(b[2]) - a[0].max(b[0])
}

fn y_overlap(a: &Rect, b: &Rect) -> i32 {
    a[3].min(b[3]) - a[1].max(b[1])
}

fn median(mut v: Vec<i32>) -> i32 {
    if v.is_empty() {
        return 0;
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable(mid).1
}

/// The median height of some boxes (0 for none): a line's text height from its words.
pub fn median_height(rects: &[Rect]) -> i32 {
    median(rects.iter().map(height).collect())
}

/// Splits one recognised line, given its words' boxes in reading order, where two neighbours
/// are more than [`SPLIT_GAP`] text heights apart. Works in either writing direction.
pub fn split_line(words: &[Rect], text_height: i32) -> Vec<Range<usize>> {
    let limit = SPLIT_GAP * text_height.max(1) as f32;
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 1..words.len() {
        let (a, b) = (&words[i - 1], &words[i]);
        let gap = (b[0] - a[2]).max(a[0] - b[2]);
        if gap as f32 > limit {
            pieces.push(start..i);
            start = i;
        }
    }
    if start < words.len() {
        pieces.push(start..words.len());
    }
    pieces
}

/// Orders segments for reading aloud: blocks in reading order, each block top to bottom,
/// tables row by row with the cells of a row together.
pub fn reading_order(segments: &[Segment]) -> Vec<Row> {
    let rects: Vec<Rect> = segments.iter().map(|s| s.rect).collect();
    let blocks = blocks(&rects);
    let all: Vec<usize> = (0..blocks.len()).collect();
    let ctx = Context {
        segments,
        blocks: &blocks,
    };
    let mut rows = Vec::new();
    for (n, leaf) in ctx.order(&all).into_iter().enumerate() {
        match leaf {
            Leaf::Block(b) => rows.extend(blocks[b].members.iter().map(|&s| Row {
                segments: vec![s],
                block: n,
            })),
            Leaf::Table(bs) => {
                let members: Vec<usize> = bs
                    .iter()
                    .flat_map(|&b| blocks[b].members.iter().copied())
                    .collect();
                rows.extend(
                    ctx.table_rows(&members)
                        .into_iter()
                        .map(|segments| Row { segments, block: n }),
                );
            }
        }
    }
    rows
}

/// Lines stacked into one block: members top to bottom, and the box around them.
#[derive(Debug, Clone)]
struct Block {
    members: Vec<usize>,
    rect: Rect,
}

/// Joins each segment to the one right below it when each is the other's only neighbour
/// there, they are close and of like height: the lines of a paragraph, a column, a cell.
fn blocks(rects: &[Rect]) -> Vec<Block> {
    let n = rects.len();
    // The segments overlapping `i` horizontally in the nearest row below (or above) it.
    let nearest = |i: usize, below: bool| -> Vec<usize> {
        let r = &rects[i];
        let h = height(r);
        let cands: Vec<usize> = (0..n)
            .filter(|&j| j != i && x_overlap(r, &rects[j]) > 0)
            .filter(|&j| {
                if below {
                    2 * rects[j][1] >= 2 * r[1] + h
                } else {
                    2 * rects[j][3] <= 2 * r[3] - h
                }
            })
            .collect();
        let edge = |j: usize| if below { rects[j][1] } else { -rects[j][3] };
        let Some(first) = cands.iter().map(|&j| edge(j)).min() else {
            return Vec::new();
        };
        cands
            .into_iter()
            .filter(|&j| 2 * (edge(j) - first) <= h)
            .collect()
    };
    let mut next: Vec<Option<usize>> = vec![None; n];
    let mut has_prev = vec![false; n];
    for i in 0..n {
        let below = nearest(i, true);
        let [j] = below[..] else { continue };
        if nearest(j, false) != [i] {
            continue;
        }
        let (hi, hj) = (height(&rects[i]), height(&rects[j]));
        let gap = rects[j][1] - rects[i][3];
        let ratio = hi.max(hj) as f32 / hi.min(hj) as f32;
        if gap as f32 <= LINK_GAP * hi.max(hj) as f32 && ratio <= LINK_HEIGHT_RATIO {
            next[i] = Some(j);
            has_prev[j] = true;
        }
    }
    let mut out = Vec::new();
    for start in (0..n).filter(|&i| !has_prev[i]) {
        let mut members = vec![start];
        let mut rect = rects[start];
        let mut at = start;
        while let Some(j) = next[at] {
            members.push(j);
            rect = union(&rect, &rects[j]);
            at = j;
        }
        out.push(Block { members, rect });
    }
    out
}

/// A piece of the page read as a whole: one block, or blocks forming a table.
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    Block(usize),
    Table(Vec<usize>),
}

struct Context<'a> {
    segments: &'a [Segment],
    blocks: &'a [Block],
}

impl Context<'_> {
    fn rect(&self, s: usize) -> &Rect {
        &self.segments[s].rect
    }

    fn members<'b>(&'b self, group: &'b [usize]) -> impl Iterator<Item = usize> + 'b {
        group
            .iter()
            .flat_map(|&b| self.blocks[b].members.iter().copied())
    }

    /// Whether most segments of these blocks run right to left.
    fn rtl(&self, group: &[usize]) -> bool {
        let (mut rtl, mut all) = (0, 0);
        for s in self.members(group) {
            all += 1;
            rtl += usize::from(self.segments[s].rtl);
        }
        2 * rtl > all
    }

    /// Recursive XY cut: columns first when they are prose, bands first otherwise (a title
    /// above, a legend below); runs of neighbouring columns whose lines share rows are read
    /// as one table, row by row.
    fn order(&self, group: &[usize]) -> Vec<Leaf> {
        if group.len() == 1 {
            return vec![Leaf::Block(group[0])];
        }
        let mut cols = self.cut(group, 0);
        let bands = self.cut(group, 1);
        if cols.len() > 1 {
            if self.rtl(group) {
                cols.reverse();
            }
            let all_prose = cols.iter().all(|c| self.is_prose(c));
            if all_prose {
                return cols.iter().flat_map(|c| self.order(c)).collect();
            }
            if self.is_table(&cols) {
                return vec![Leaf::Table(group.to_vec())];
            }
            if bands.len() == 1 {
                // Side by side only, e.g. a sidebar beside a table: the sidebar, then the
                // table's rows (runs of columns whose lines share rows).
                return self
                    .table_runs(&cols)
                    .iter()
                    .flat_map(|run| match run.as_slice() {
                        [one] => self.order(one),
                        _ => vec![Leaf::Table(run.concat())],
                    })
                    .collect();
            }
        }
        if bands.len() > 1 {
            return self
                .join_columns(bands)
                .iter()
                .flat_map(|b| self.order(b))
                .collect();
        }
        // Nothing separates them cleanly (overlapping boxes): top to bottom, then left to right.
        let mut sorted = group.to_vec();
        sorted.sort_by_key(|&b| (self.blocks[b].rect[1], self.blocks[b].rect[0]));
        sorted.into_iter().map(Leaf::Block).collect()
    }

    /// Whether all these columns form one table (each neighbour's lines share its rows).
    fn is_table(&self, cols: &[Vec<usize>]) -> bool {
        cols.len() > 1 && cols.windows(2).all(|w| self.rows_align(&w[0], &w[1]))
    }

    /// Neighbouring columns grouped into runs, cut where two neighbours' lines do not share rows.
    fn table_runs(&self, cols: &[Vec<usize>]) -> Vec<Vec<Vec<usize>>> {
        let mut runs: Vec<Vec<Vec<usize>>> = Vec::new();
        for (i, col) in cols.iter().enumerate() {
            match runs.last_mut() {
                Some(run) if i > 0 && self.rows_align(&cols[i - 1], col) => run.push(col.clone()),
                _ => runs.push(vec![col.clone()]),
            }
        }
        runs
    }

    /// Splits blocks where nothing overlaps along the axis (0: x, columns; 1: y, bands).
    fn cut(&self, group: &[usize], axis: usize) -> Vec<Vec<usize>> {
        let mut sorted = group.to_vec();
        sorted.sort_by_key(|&b| (self.blocks[b].rect[axis], self.blocks[b].rect[axis + 2]));
        let mut out: Vec<Vec<usize>> = Vec::new();
        let mut end = i32::MIN;
        for b in sorted {
            let r = &self.blocks[b].rect;
            match out.last_mut() {
                Some(last) if r[axis] < end => last.push(b),
                _ => out.push(vec![b]),
            }
            end = end.max(r[axis + 2]);
        }
        out
    }

    /// Joins neighbouring bands that continue the same prose columns or table: paragraphs
    /// that end on the same row in both columns must not cut the columns into slices, nor
    /// wide row gaps a table into pieces.
    fn join_columns(&self, bands: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = Vec::new();
        for band in bands {
            if let Some(last) = out.last_mut() {
                let mut joined = last.clone();
                joined.extend(&band);
                let columns = |g: &[usize]| self.cut(g, 0).len() > 1;
                let same_kind = || {
                    let cols = self.cut(&joined, 0);
                    cols.iter().all(|c| self.is_prose(c)) || self.is_table(&cols)
                };
                if columns(last) && columns(&band) && columns(&joined) && same_kind() {
                    *last = joined;
                    continue;
                }
            }
            out.push(band);
        }
        out
    }

    /// Whether a column reads as running text: wide, with lines that fill it.
    fn is_prose(&self, group: &[usize]) -> bool {
        let mut filled = Vec::new();
        for &b in group {
            let m = &self.blocks[b].members;
            filled.extend(m[..m.len() - 1].iter().map(|&s| width(self.rect(s))));
        }
        let widest = self.members(group).map(|s| width(self.rect(s))).max();
        let line = median(self.members(group).map(|s| height(self.rect(s))).collect());
        match widest {
            Some(w) if !filled.is_empty() && w as f32 >= PROSE_MIN_WIDTH * line as f32 => {
                median(filled) as f32 >= PROSE_FILL * w as f32
            }
            _ => false,
        }
    }

    /// Whether most lines of two side-by-side groups have a partner on the same row.
    fn rows_align(&self, a: &[usize], b: &[usize]) -> bool {
        let same_row = |a: &Rect, b: &Rect| {
            let (ha, hb) = (height(a), height(b));
            let centre = (a[1] + a[3] - b[1] - b[3]).abs();
            // Centres within a quarter of the smaller height, heights within a factor of
            // two (a cell's box can take in part of a rule below it).
            2 * centre <= ha.min(hb) && ha.max(hb) <= 2 * ha.min(hb)
        };
        let partnered = |from: &[usize], to: &[usize]| -> (usize, usize) {
            let mut n = 0;
            let mut aligned = 0;
            for s in self.members(from) {
                n += 1;
                aligned += usize::from(
                    self.members(to)
                        .any(|t| same_row(self.rect(s), self.rect(t))),
                );
            }
            (aligned, n)
        };
        let ((x, n), (y, m)) = (partnered(a, b), partnered(b, a));
        n + m > 0 && (x + y) as f32 >= TABLE_ALIGNED * (n + m) as f32
    }

    /// Groups a table's segments into rows, top to bottom, cells in writing order.
    fn table_rows(&self, members: &[usize]) -> Vec<Vec<usize>> {
        let rtl = {
            let n = members.iter().filter(|&&s| self.segments[s].rtl).count();
            2 * n > members.len()
        };
        let mut sorted = members.to_vec();
        sorted.sort_by_key(|&s| {
            let r = self.rect(s);
            (r[1] + r[3], r[0])
        });
        let mut rows: Vec<(Rect, Vec<usize>)> = Vec::new();
        for s in sorted {
            let r = *self.rect(s);
            match rows.last_mut() {
                Some((band, cells)) if 2 * y_overlap(band, &r) >= height(band).min(height(&r)) => {
                    *band = union(band, &r);
                    cells.push(s);
                }
                _ => rows.push((r, vec![s])),
            }
        }
        rows.into_iter()
            .map(|(_, mut cells)| {
                cells.sort_by_key(|&s| self.rect(s)[0]);
                if rtl {
                    cells.reverse();
                }
                cells
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(x0: i32, y0: i32, x1: i32, y1: i32) -> Segment {
        Segment {
            rect: [x0, y0, x1, y1],
            rtl: false,
        }
    }

    fn order(segs: &[Segment]) -> Vec<Vec<usize>> {
        reading_order(segs)
            .into_iter()
            .map(|r| r.segments)
            .collect()
    }

    /// Lines of prose `width` wide at `x`, from `y`, 16 px tall every 20 px; the last short.
    fn paragraph(x: i32, y: i32, width: i32, lines: i32) -> Vec<Segment> {
        (0..lines)
            .map(|k| {
                let w = if k == lines - 1 {
                    width / 3
                } else {
                    width - 5 * (k % 3)
                };
                seg(x, y + 20 * k, x + w, y + 20 * k + 16)
            })
            .collect()
    }

    #[test]
    fn a_line_splits_only_at_wide_gaps_in_either_direction() {
        let words = [[0, 0, 40, 16], [46, 0, 90, 16], [140, 0, 200, 16]];
        assert_eq!(split_line(&words, 16), vec![0..2, 2..3]);
        let rtl = [[140, 0, 200, 16], [96, 0, 134, 16], [0, 0, 50, 16]];
        assert_eq!(split_line(&rtl, 16), vec![0..2, 2..3]);
        assert_eq!(split_line(&[], 16), Vec::<Range<usize>>::new());
    }

    #[test]
    fn columns_are_read_one_after_the_other() {
        // A heading across the page, then two columns whose lines sit on the same rows.
        let mut segs = vec![seg(20, 10, 700, 40)];
        segs.extend(paragraph(20, 60, 340, 5));
        segs.extend(paragraph(400, 60, 340, 5));
        let rows = order(&segs);
        let flat: Vec<usize> = rows.iter().flatten().copied().collect();
        assert_eq!(flat, (0..11).collect::<Vec<_>>());
        assert!(rows.iter().all(|r| r.len() == 1));
        let blocks: Vec<usize> = reading_order(&segs).iter().map(|r| r.block).collect();
        assert_eq!(blocks, [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    }

    #[test]
    fn columns_with_paragraph_gaps_on_the_same_rows_stay_columns() {
        let mut segs = paragraph(20, 0, 340, 3);
        segs.extend(paragraph(20, 100, 340, 3));
        segs.extend(paragraph(400, 0, 340, 3));
        segs.extend(paragraph(400, 100, 340, 3));
        let flat: Vec<usize> = order(&segs).into_iter().flatten().collect();
        assert_eq!(flat, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn a_title_across_columns_does_not_let_aligned_paragraph_gaps_slice_them() {
        // Title spanning the gutter; each column has two paragraphs ending on the same row.
        let mut segs = vec![seg(200, 0, 600, 30)];
        segs.extend(paragraph(20, 50, 340, 3));
        segs.extend(paragraph(20, 150, 340, 3));
        segs.extend(paragraph(400, 50, 340, 3));
        segs.extend(paragraph(400, 150, 340, 3));
        let flat: Vec<usize> = order(&segs).into_iter().flatten().collect();
        assert_eq!(flat, (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn a_table_is_read_row_by_row_with_its_header() {
        // Three columns of short cells, given column by column.
        let mut segs = Vec::new();
        for (x, w) in [(20, 90), (180, 60), (320, 30)] {
            for row in 0..4 {
                let y = 20 + 32 * row;
                segs.push(seg(x, y, x + w - 5 * row, y + 16));
            }
        }
        let rows = order(&segs);
        assert_eq!(
            rows,
            vec![vec![0, 4, 8], vec![1, 5, 9], vec![2, 6, 10], vec![3, 7, 11]]
        );
    }

    #[test]
    fn a_table_under_a_title_with_wide_row_gaps_is_one_block() {
        let mut segs = vec![seg(20, 0, 600, 30)];
        for row in 0..4 {
            let y = 60 + 50 * row;
            segs.extend([
                seg(20, y, 100, y + 16),
                seg(300, y, 340, y + 16),
                seg(500, y, 560, y + 16),
            ]);
        }
        let rows = reading_order(&segs);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[1].segments, vec![1, 2, 3]);
        assert!(rows[1..].iter().all(|r| r.block == 1), "{rows:?}");
    }

    #[test]
    fn a_right_to_left_table_reads_its_cells_from_the_right() {
        let mut segs = vec![seg(20, 0, 80, 16), seg(200, 0, 300, 16)];
        segs.extend([seg(20, 30, 70, 46), seg(200, 30, 280, 46)]);
        for s in &mut segs {
            s.rtl = true;
        }
        assert_eq!(order(&segs), vec![vec![1, 0], vec![3, 2]]);
    }

    #[test]
    fn a_dialog_reads_title_message_then_buttons() {
        let segs = vec![
            seg(370, 270, 450, 290), // button "Cancel", given first
            seg(210, 150, 330, 164), // title
            seg(215, 185, 560, 200), // message, line 1
            seg(215, 200, 280, 214), // message, line 2
            seg(460, 270, 520, 290), // button "Save"
            seg(215, 230, 530, 245), // second message
            seg(280, 270, 360, 290), // button "Don't Save"
        ];
        assert_eq!(
            order(&segs),
            vec![vec![1], vec![2], vec![3], vec![5], vec![6, 0, 4]]
        );
    }

    #[test]
    fn a_sidebar_beside_an_article_is_read_before_it_not_interleaved() {
        // Six menu items 24 px apart beside a 12-line article 20 px apart.
        let mut segs: Vec<Segment> = (0..6)
            .map(|k| seg(10, 10 + 24 * k, 80, 26 + 24 * k))
            .collect();
        segs.extend(paragraph(200, 10, 500, 12));
        let flat: Vec<usize> = order(&segs).into_iter().flatten().collect();
        assert_eq!(flat, (0..18).collect::<Vec<_>>());
    }

    #[test]
    fn a_sidebar_beside_a_table_is_read_before_the_tables_rows() {
        // Menu items 24 px apart; a three-column table with rows 27 px apart.
        let mut segs: Vec<Segment> = (0..6)
            .map(|k| seg(10, 10 + 24 * k, 80, 26 + 24 * k))
            .collect();
        for row in 0..8 {
            let y = 10 + 27 * row;
            segs.push(seg(200, y, 290, y + 16));
            segs.push(seg(400, y, 700, y + 16));
            segs.push(seg(800, y, 840, y + 16));
        }
        let rows = order(&segs);
        assert_eq!(rows[..6], (0..6).map(|k| vec![k]).collect::<Vec<_>>());
        assert_eq!(rows[6], vec![6, 7, 8]);
        assert_eq!(rows.len(), 6 + 8);
    }

    #[test]
    fn a_heading_stays_its_own_block() {
        let mut segs = vec![seg(20, 0, 300, 40)];
        segs.extend(paragraph(20, 50, 400, 3));
        let rows = reading_order(&segs);
        assert_eq!(rows[0].block, 0);
        assert!(rows[1..].iter().all(|r| r.block == 1));
    }
}
