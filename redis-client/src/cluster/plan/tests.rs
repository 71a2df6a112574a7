use super::*;
use crate::command::lookup_args;

fn plan_of(argv: &[&str]) -> Result<Plan> {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    plan(lookup_args(&argv), &argv)
}

#[test]
fn single_key_commands_go_to_their_slot() {
    assert_eq!(
        plan_of(&["GET", "foo"]).unwrap(),
        Plan::Slot {
            slot: 12182,
            read_only: true
        }
    );
    assert_eq!(
        plan_of(&["SET", "foo", "v"]).unwrap(),
        Plan::Slot {
            slot: 12182,
            read_only: false
        }
    );
    // Keys found by keyword and by key count, from the generated key specs.
    assert_eq!(
        plan_of(&["XREAD", "COUNT", "2", "STREAMS", "{s}a", "{s}b", "0", "0"]).unwrap(),
        Plan::Slot {
            slot: key_slot(b"s"),
            read_only: true
        }
    );
    assert_eq!(
        plan_of(&["EVAL", "return 1", "1", "foo", "bar"]).unwrap(),
        Plan::Slot {
            slot: 12182,
            read_only: false
        }
    );
}

#[test]
fn keyless_commands_go_anywhere() {
    assert_eq!(
        plan_of(&["ECHO", "x"]).unwrap(),
        Plan::AnyNode { read_only: false }
    );
    // PING carries the all_shards tip.
    assert!(matches!(
        plan_of(&["PING"]).unwrap(),
        Plan::FanOut {
            to: FanOut::Primaries,
            ..
        }
    ));
    assert_eq!(
        plan_of(&["EVAL", "return 1", "0"]).unwrap(),
        Plan::AnyNode { read_only: false }
    );
    assert_eq!(
        plan_of(&["NOSUCHCOMMAND", "x"]).unwrap(),
        Plan::AnyNode { read_only: false }
    );
}

#[test]
fn cross_slot_commands_fail_before_sending() {
    let e = plan_of(&["SUNIONSTORE", "dest", "foo", "bar"]).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("SUNIONSTORE"), "{text}");
    assert!(
        text.contains("slot 12182") && text.contains("`foo`"),
        "{text}"
    );
    assert!(plan_of(&["SUNIONSTORE", "{t}dest", "{t}a", "{t}b"]).is_ok());
}

#[test]
fn multi_shard_commands_split_by_slot() {
    let Plan::Split {
        parts,
        merge,
        groups,
        read_only,
    } = plan_of(&["MGET", "foo", "bar", "{foo}x"]).unwrap()
    else {
        panic!("MGET over two slots must split");
    };
    assert_eq!(groups, 3);
    assert!(read_only);
    assert_eq!(merge, Merge::InOrder);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].slot, 12182);
    assert_eq!(parts[0].args, vec![0, 1, 3]);
    assert_eq!(parts[0].groups, vec![0, 2]);
    assert_eq!(parts[1].args, vec![0, 2]);

    let Plan::Split { parts, merge, .. } = plan_of(&["MSET", "foo", "1", "bar", "2"]).unwrap()
    else {
        panic!("MSET over two slots must split");
    };
    assert_eq!(parts[0].args, vec![0, 1, 2]);
    assert_eq!(parts[1].args, vec![0, 3, 4]);
    assert_eq!(merge, Merge::Policy(ResponsePolicy::AllSucceeded));

    let Plan::Split { merge, .. } = plan_of(&["DEL", "foo", "bar"]).unwrap() else {
        panic!("DEL over two slots must split");
    };
    assert_eq!(merge, Merge::Policy(ResponsePolicy::AggSum));

    // One slot: no split at all.
    assert_eq!(
        plan_of(&["MGET", "{foo}a", "{foo}b"]).unwrap(),
        Plan::Slot {
            slot: 12182,
            read_only: true
        }
    );
}

#[test]
fn fan_out_and_special_policies_come_from_the_tips() {
    assert_eq!(
        plan_of(&["DBSIZE"]).unwrap(),
        Plan::FanOut {
            to: FanOut::Primaries,
            response: ResponsePolicy::AggSum
        }
    );
    assert!(matches!(
        plan_of(&["SCRIPT", "EXISTS", "abc"]).unwrap(),
        Plan::FanOut {
            response: ResponsePolicy::AggLogicalAnd,
            ..
        }
    ));
    assert!(matches!(
        plan_of(&["INFO"]).unwrap(),
        Plan::FanOut {
            response: ResponsePolicy::Special(Special::Info),
            ..
        } | Plan::Special(Special::Info)
    ));
}

#[test]
fn counted_keys_are_recounted_per_part() {
    let argv = [
        "MSETEX", "3", "foo", "1", "bar", "2", "{foo}x", "3", "EX", "10",
    ];
    let Plan::Split { parts, groups, .. } = plan_of(&argv).unwrap() else {
        panic!("MSETEX over two slots must split");
    };
    assert_eq!(groups, 3);
    // foo and {foo}x share a slot: numkeys 2, both pairs, and the EX option repeated.
    assert_eq!(parts[0].args, vec![0, 1, 2, 3, 6, 7, 8, 9]);
    assert_eq!(parts[0].count, Some((1, 2)));
    assert_eq!(parts[1].args, vec![0, 1, 4, 5, 8, 9]);
    assert_eq!(parts[1].count, Some((1, 1)));
}
