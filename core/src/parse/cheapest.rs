//! Choosing among alternatives by cost: [`cheapest`] tries candidates (for
//! [`parse`](super::parse)), union branches and the types of a `type` list the
//! same way, so the three agree on which one wins and on ties.

use serde_json::Value;

use super::repair::{Repair, total_cost};
use super::terms::ParseError;

/// The winner of [`cheapest`].
pub(crate) struct Cheapest {
    /// The winning value.
    pub(crate) value: Value,
    /// Every repair it took, its own floor included.
    pub(crate) repairs: Vec<Repair>,
    /// Its position among the alternatives.
    pub(crate) index: usize,
    /// How many of the alternatives tried fit (skipped ones are not counted).
    pub(crate) fits: usize,
}

/// Why [`cheapest`] has no winner.
pub(crate) enum NoFit {
    /// An error that is not a mismatch (a bound, an unusable schema); it ends the
    /// search at once.
    Fatal(ParseError),
    /// No alternative fit. `error` is the most promising mismatch; `tied` says that
    /// another alternative got exactly as far, so that none is the obvious intent.
    Mismatch {
        /// The first of the most promising mismatches.
        error: ParseError,
        /// Whether a later alternative ranked the same.
        tied: bool,
    },
    /// There was nothing to try.
    Nothing,
}

/// One alternative's failure, ranked: the deeper into the value a mismatch is,
/// the closer the alternative came to fitting.
pub(crate) struct Miss {
    error: ParseError,
    rank: usize,
}

impl Miss {
    /// Ranks the failure just below one as deep that failed on something else: a
    /// union branch whose `const` tag does not match is the wrong branch, not a near
    /// miss.
    pub(crate) fn on_tag(mut self) -> Self {
        self.rank = self.rank.saturating_sub(1);
        self
    }
}

impl From<ParseError> for Miss {
    fn from(error: ParseError) -> Self {
        let rank = match &error {
            ParseError::Mismatch { path, .. } => 2 * (path.matches('/').count() + 1),
            _ => 0,
        };
        Self { error, rank }
    }
}

/// Tries `alternatives` in order and keeps the cheapest fit, by the total cost of
/// its repairs.
///
/// `floor` is a cost an alternative cannot go below (the repairs it already
/// carries; 0 when it carries none). An alternative whose floor is not below the
/// best cost so far is skipped without being tried, so a free fit ends the search.
///
/// The tie rule, the same for every caller: among fits of equal cost the earliest
/// wins (a later one must be strictly cheaper); among mismatches of equal rank the
/// earliest is kept, and [`NoFit::Mismatch::tied`] says so. A union reports a tied
/// mismatch as a mismatch of the whole union; candidates and `type` lists report
/// the earliest.
///
/// # Errors
///
/// [`NoFit`] when no alternative fits.
pub(crate) fn cheapest<I>(
    alternatives: I,
    floor: impl Fn(&I::Item) -> u32,
    mut attempt: impl FnMut(I::Item) -> Result<(Value, Vec<Repair>), Miss>,
) -> Result<Cheapest, NoFit>
where
    I: IntoIterator,
{
    let mut best: Option<(Cheapest, u32)> = None;
    let mut missed: Option<(Miss, bool)> = None;
    let mut fits = 0;
    for (index, alternative) in alternatives.into_iter().enumerate() {
        if best
            .as_ref()
            .is_some_and(|(_, cost)| *cost <= floor(&alternative))
        {
            continue;
        }
        match attempt(alternative) {
            Ok((value, repairs)) => {
                fits += 1;
                let cost = total_cost(&repairs);
                if best.as_ref().is_none_or(|(_, best)| cost < *best) {
                    let winner = Cheapest {
                        value,
                        repairs,
                        index,
                        fits: 0,
                    };
                    best = Some((winner, cost));
                }
            }
            Err(miss) if !matches!(miss.error, ParseError::Mismatch { .. }) => {
                return Err(NoFit::Fatal(miss.error));
            }
            Err(miss) => keep_deepest(&mut missed, miss),
        }
    }
    match (best, missed) {
        (Some((winner, _)), _) => Ok(Cheapest { fits, ..winner }),
        (None, Some((miss, tied))) => Err(NoFit::Mismatch {
            error: miss.error,
            tied,
        }),
        (None, None) => Err(NoFit::Nothing),
    }
}

/// Keeps the higher-ranked of `missed` and `miss`, the earlier on ties, noting
/// the tie.
fn keep_deepest(missed: &mut Option<(Miss, bool)>, miss: Miss) {
    match missed {
        Some((old, _)) if old.rank > miss.rank => {}
        Some((old, tied)) if old.rank == miss.rank => *tied = true,
        _ => *missed = Some((miss, false)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::RepairKind;

    fn mismatch(path: &str) -> Miss {
        Miss::from(ParseError::Mismatch {
            path: path.to_owned(),
            expected: String::new(),
            found: String::new(),
        })
    }

    fn repairs(cost: u32) -> Vec<Repair> {
        vec![Repair::new(RepairKind::RenamedKey, "", "").with_cost(cost)]
    }

    #[test]
    fn the_earliest_of_the_cheapest_wins() {
        let found = cheapest([2, 1, 1, 3], |_| 0, |c| Ok((json!(c), repairs(c)))).ok();
        let found = found.map(|b| (b.index, b.fits));
        assert_eq!(found, Some((1, 4)));
    }

    #[test]
    fn a_free_fit_ends_the_search_and_floors_skip() {
        let mut tried = Vec::new();
        let found = cheapest(
            [(1, 0), (0, 0), (0, 1)],
            |&(floor, _)| floor,
            |(floor, cost)| {
                tried.push((floor, cost));
                Ok((json!(null), repairs(floor + cost)))
            },
        );
        assert_eq!(found.ok().map(|b| b.index), Some(1));
        assert_eq!(tried, [(1, 0), (0, 0)]);
    }

    #[test]
    fn the_deepest_mismatch_is_kept_and_ties_are_said() {
        let found = cheapest(["", "/a", "/b"], |_| 0, |p| Err(mismatch(p)));
        let Err(NoFit::Mismatch { error, tied }) = found else {
            panic!("expected a mismatch");
        };
        assert!(tied);
        assert!(matches!(error, ParseError::Mismatch { path, .. } if path == "/a"));
        let found = cheapest(["/a", "/b"], |_| 0, |p| Err(mismatch(p).on_tag()));
        assert!(matches!(found, Err(NoFit::Mismatch { tied: true, .. })));
        let found = cheapest(
            ["/a", "/b"],
            |_| 0,
            |p| {
                Err(if p == "/a" {
                    mismatch(p).on_tag()
                } else {
                    mismatch(p)
                })
            },
        );
        let Err(NoFit::Mismatch { error, tied }) = found else {
            panic!("expected a mismatch");
        };
        assert!(!tied);
        assert!(matches!(error, ParseError::Mismatch { path, .. } if path == "/b"));
    }

    #[test]
    fn other_errors_end_the_search() {
        let found = cheapest(
            [1, 2],
            |_| 0,
            |_| Err(Miss::from(ParseError::TooComplex { limit: 1 })),
        );
        assert!(matches!(
            found,
            Err(NoFit::Fatal(ParseError::TooComplex { .. }))
        ));
        let none: [u32; 0] = [];
        let found = cheapest(none, |_| 0, |_| Err(mismatch("")));
        assert!(matches!(found, Err(NoFit::Nothing)));
    }
}
