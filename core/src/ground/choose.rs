//! Which occurrence of a repeated value a leaf points at: the one nearest its siblings, so
//! that a person's name and age point into the same sentence.
//!
//! Leaves are grouped by the object that holds them. In each group, a leaf found once is
//! an anchor; the others take the occurrence nearest to what is already chosen. A group
//! with no anchor takes its context from the nearest enclosing group that has one, and a
//! group with neither starts from the occurrence of its rarest leaf that lies nearest to
//! all the others.

use std::ops::Range;

/// Occurrences of the rarest leaf weighed when a group has no context at all.
const MAX_WEIGHED: usize = 512;

/// The gap between two ranges, 0 when they touch or overlap.
fn distance(a: &Range<usize>, b: &Range<usize>) -> usize {
    if a.end <= b.start {
        b.start - a.end
    } else {
        a.start.saturating_sub(b.end)
    }
}

/// The index of the occurrence in `sorted` (by start) nearest to `to`.
fn nearest(sorted: &[Range<usize>], to: &Range<usize>) -> Option<(usize, usize)> {
    let at = sorted.partition_point(|r| r.start < to.start);
    let lo = at.saturating_sub(2);
    let hi = (at + 2).min(sorted.len());
    (lo..hi)
        .map(|i| (i, distance(&sorted[i], to)))
        .min_by_key(|&(i, d)| (d, i))
}

/// The leaves to place: each one's group, and its occurrences sorted by start.
pub(crate) struct Placing<'a> {
    /// The enclosing group of each group (`None` at the root).
    pub(crate) parents: &'a [Option<usize>],
    /// Each leaf's group.
    pub(crate) groups: &'a [usize],
    /// Each leaf's occurrences, sorted by start; empty when it was not found.
    pub(crate) found: &'a [Vec<Range<usize>>],
}

/// The chosen occurrence of every leaf (`None` for a leaf not found).
pub(crate) fn choose(placing: &Placing<'_>) -> Vec<Option<Range<usize>>> {
    // Each leaf found at most once (most replies to a short text): every found leaf is an
    // anchor, and there is nothing to choose.
    if placing.found.iter().all(|ranges| ranges.len() <= 1) {
        return placing.found.iter().map(|r| r.first().cloned()).collect();
    }
    let mut chosen: Vec<Option<Range<usize>>> = vec![None; placing.found.len()];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); placing.parents.len()];
    for (leaf, &group) in placing.groups.iter().enumerate() {
        if !placing.found[leaf].is_empty() {
            members[group].push(leaf);
        }
    }
    // Groups are numbered in the value's order, so an enclosing group comes first.
    let mut placed: Vec<Vec<Range<usize>>> = vec![Vec::new(); placing.parents.len()];
    for group in 0..placing.parents.len() {
        let mut leaves = std::mem::take(&mut members[group]);
        leaves.sort_by_key(|&leaf| placing.found[leaf].len());
        let context = enclosing(placing.parents, &placed, group);
        place_group(placing.found, &leaves, context, &mut chosen);
        placed[group] = leaves.iter().filter_map(|&l| chosen[l].clone()).collect();
    }
    chosen
}

/// Places one group's leaves (rarest first): anchors, then each nearest to what is placed,
/// with the enclosing group's places as context when the group has no anchor.
fn place_group(
    found: &[Vec<Range<usize>>],
    leaves: &[usize],
    enclosing: Vec<Range<usize>>,
    chosen: &mut [Option<Range<usize>>],
) {
    let mut context: Vec<Range<usize>> = Vec::new();
    for &leaf in leaves {
        if let [only] = found[leaf].as_slice() {
            chosen[leaf] = Some(only.clone());
            context.push(only.clone());
        }
    }
    if context.is_empty() {
        context = enclosing;
    }
    if context.is_empty()
        && let Some(&first) = leaves.first()
    {
        let start = rarest(found, leaves, first);
        chosen[first] = Some(start.clone());
        context.push(start);
    }
    for &leaf in leaves {
        if chosen[leaf].is_some() {
            continue;
        }
        let pick = context
            .iter()
            .filter_map(|to| nearest(&found[leaf], to))
            .min_by_key(|&(i, d)| (d, i))
            .map(|(i, _)| found[leaf][i].clone());
        if let Some(pick) = pick {
            context.push(pick.clone());
            chosen[leaf] = Some(pick);
        }
    }
}

/// The placed ranges of the nearest enclosing group that has any.
fn enclosing(
    parents: &[Option<usize>],
    placed: &[Vec<Range<usize>>],
    group: usize,
) -> Vec<Range<usize>> {
    let mut up = parents[group];
    while let Some(g) = up {
        if !placed[g].is_empty() {
            return placed[g].clone();
        }
        up = parents[g];
    }
    Vec::new()
}

/// The occurrence of `first` (the rarest leaf) whose summed distance to the nearest
/// occurrence of every other leaf is least.
fn rarest(found: &[Vec<Range<usize>>], leaves: &[usize], first: usize) -> Range<usize> {
    found[first]
        .iter()
        .take(MAX_WEIGHED)
        .min_by_key(|candidate| {
            leaves
                .iter()
                .filter(|&&l| l != first)
                .filter_map(|&l| nearest(&found[l], candidate).map(|(_, d)| d))
                .sum::<usize>()
        })
        .cloned()
        .unwrap_or_else(|| found[first][0].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_point_into_the_same_sentence() {
        // Two people, both 36; names found once each.
        let found = vec![
            vec![0..3],
            vec![4..6, 30..32],
            vec![20..23],
            vec![4..6, 30..32],
        ];
        let chosen = choose(&Placing {
            parents: &[None, Some(0), Some(0)],
            groups: &[1, 1, 2, 2],
            found: &found,
        });
        assert_eq!(
            chosen,
            vec![Some(0..3), Some(4..6), Some(20..23), Some(30..32)]
        );
    }

    #[test]
    fn a_group_without_anchor_starts_where_its_leaves_cluster() {
        // "Ada" twice, "36" twice; only the second pair sits together.
        let found = vec![vec![0..3, 100..103], vec![50..52, 104..106]];
        let chosen = choose(&Placing {
            parents: &[None],
            groups: &[0, 0],
            found: &found,
        });
        assert_eq!(chosen, vec![Some(100..103), Some(104..106)]);
    }

    #[test]
    fn a_lone_nested_leaf_follows_its_enclosing_group() {
        // {name, address: {city}}: the city occurs twice; the one near the name wins.
        let found = vec![vec![40..45], vec![2..8, 47..53]];
        let chosen = choose(&Placing {
            parents: &[None, Some(0)],
            groups: &[0, 1],
            found: &found,
        });
        assert_eq!(chosen, vec![Some(40..45), Some(47..53)]);
    }
}
