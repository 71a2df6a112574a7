//! The pure part of a cluster pipeline: which queued commands go to which node, and putting
//! their outcomes back in call order, round after round of redirections.
//!
//! Nothing here touches a socket; the front end asks where each command goes, sends each
//! group, and hands back what came of it.

/// The commands of one node, by their positions in the pipeline, in call order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Group<N> {
    /// Where the commands go.
    pub(crate) node: N,
    /// Positions of the commands in the pipeline, ascending.
    pub(crate) commands: Vec<usize>,
}

/// Groups `commands` (pipeline positions, ascending) by the node `target` names for each.
///
/// Groups come in the order their first command was queued; a cluster has few nodes, so a
/// linear search beats hashing here.
pub(crate) fn group_by_node<N: PartialEq, E>(
    commands: impl IntoIterator<Item = usize>,
    mut target: impl FnMut(usize) -> Result<N, E>,
) -> Result<Vec<Group<N>>, E> {
    let mut groups: Vec<Group<N>> = Vec::new();
    for index in commands {
        let node = target(index)?;
        match groups.iter_mut().find(|g| g.node == node) {
            Some(group) => group.commands.push(index),
            None => groups.push(Group {
                node,
                commands: vec![index],
            }),
        }
    }
    Ok(groups)
}

/// The outcomes of a pipeline's commands, filled in as the groups answer, in any order.
#[derive(Debug)]
pub(crate) struct Assembly<T> {
    outcomes: Vec<Option<T>>,
}

impl<T> Assembly<T> {
    /// Room for `len` outcomes, none known yet.
    pub(crate) fn new(len: usize) -> Assembly<T> {
        Assembly {
            outcomes: (0..len).map(|_| None).collect(),
        }
    }

    /// Records (or, after a redirection, replaces) the outcome of command `index`.
    pub(crate) fn place(&mut self, index: usize, outcome: T) {
        self.outcomes[index] = Some(outcome);
    }

    /// The outcome of command `index`, if known.
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.outcomes[index].as_ref()
    }

    /// Every outcome in call order; `Err` with the first position nobody answered.
    pub(crate) fn into_ordered(self) -> Result<Vec<T>, usize> {
        let mut out = Vec::with_capacity(self.outcomes.len());
        for (index, outcome) in self.outcomes.into_iter().enumerate() {
            out.push(outcome.ok_or(index)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_call_order_within_and_first_use_order_between_nodes() {
        let nodes = ["b", "a", "b", "c", "a", "b"];
        let groups = group_by_node(0..nodes.len(), |i| Ok::<_, ()>(nodes[i])).unwrap();
        assert_eq!(
            groups,
            vec![
                Group {
                    node: "b",
                    commands: vec![0, 2, 5]
                },
                Group {
                    node: "a",
                    commands: vec![1, 4]
                },
                Group {
                    node: "c",
                    commands: vec![3]
                },
            ]
        );
    }

    #[test]
    fn a_subset_is_grouped_alone_and_routing_errors_stop_the_grouping() {
        let groups = group_by_node([1, 3], |i| Ok::<_, ()>(i % 2)).unwrap();
        assert_eq!(
            groups,
            vec![Group {
                node: 1,
                commands: vec![1, 3]
            }]
        );
        let err = group_by_node(0..4, |i| if i == 2 { Err(i) } else { Ok(0) }).unwrap_err();
        assert_eq!(err, 2);
    }

    #[test]
    fn outcomes_come_back_in_call_order_whatever_order_they_arrive_in() {
        let mut assembly = Assembly::new(4);
        for (index, outcome) in [(2, "c"), (0, "a"), (3, "d"), (1, "b")] {
            assembly.place(index, outcome);
        }
        assert_eq!(assembly.into_ordered().unwrap(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn a_redirected_outcome_is_replaced_and_a_missing_one_is_named() {
        let mut assembly = Assembly::new(3);
        assembly.place(0, Ok(1));
        assembly.place(1, Err("MOVED"));
        assert_eq!(assembly.get(1), Some(&Err("MOVED")));
        assembly.place(1, Ok(2));
        assert_eq!(assembly.get(1), Some(&Ok(2)));
        assert_eq!(assembly.get(2), None);
        let mut partial: Assembly<i32> = Assembly::new(2);
        partial.place(0, 7);
        assert_eq!(partial.into_ordered().unwrap_err(), 1);
    }
}
