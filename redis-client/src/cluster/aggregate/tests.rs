use super::*;

fn ok(node: &str, v: Value) -> (String, Result<Value>) {
    (node.to_string(), Ok(v))
}

fn int(i: i64) -> Value {
    Value::Integer(i)
}

fn bulk(s: &str) -> Value {
    Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn numeric_policies() {
    let r = || vec![ok("a", int(3)), ok("b", int(5)), ok("c", int(1))];
    assert_eq!(combine(ResponsePolicy::AggSum, r()).unwrap(), int(9));
    assert_eq!(combine(ResponsePolicy::AggMin, r()).unwrap(), int(1));
    assert_eq!(combine(ResponsePolicy::AggMax, r()).unwrap(), int(5));
    let e = combine(ResponsePolicy::AggSum, vec![ok("a", bulk("x"))]).unwrap_err();
    assert!(e.to_string().contains("integer"), "{e}");
}

#[test]
fn logical_policies_work_element_wise() {
    let r = || {
        vec![
            ok("a", Value::Array(vec![int(1), int(0), int(1)])),
            ok("b", Value::Array(vec![int(1), int(1), int(0)])),
        ]
    };
    assert_eq!(
        combine(ResponsePolicy::AggLogicalAnd, r()).unwrap(),
        Value::Array(vec![int(1), int(0), int(0)])
    );
    assert_eq!(
        combine(ResponsePolicy::AggLogicalOr, r()).unwrap(),
        Value::Array(vec![int(1), int(1), int(1)])
    );
}

#[test]
fn success_policies() {
    let failed = || Error::from_server_reply(b"ERR nope", None);
    let mixed = || vec![("a".to_string(), Err(failed())), ok("b", bulk("OK"))];
    assert_eq!(
        combine(ResponsePolicy::OneSucceeded, mixed()).unwrap(),
        bulk("OK")
    );
    assert!(combine(ResponsePolicy::AllSucceeded, mixed()).is_err());
    assert_eq!(
        combine(
            ResponsePolicy::AllSucceeded,
            vec![ok("a", bulk("OK")), ok("b", bulk("OK"))]
        )
        .unwrap(),
        bulk("OK")
    );
    assert!(combine(
        ResponsePolicy::OneSucceeded,
        vec![("a".into(), Err(failed()))]
    )
    .is_err());
    assert!(combine(ResponsePolicy::AllSucceeded, Vec::new()).is_err());
}

#[test]
fn default_concatenates_arrays_and_keeps_equal_scalars() {
    let r = vec![
        ok("a", Value::Array(vec![bulk("k1")])),
        ok("b", Value::Array(vec![bulk("k2"), bulk("k3")])),
    ];
    assert_eq!(
        combine(ResponsePolicy::Default, r).unwrap(),
        Value::Array(vec![bulk("k1"), bulk("k2"), bulk("k3")])
    );
    assert_eq!(
        combine(
            ResponsePolicy::Default,
            vec![ok("a", bulk("OK")), ok("b", bulk("OK"))]
        )
        .unwrap(),
        bulk("OK")
    );
}

#[test]
fn specials() {
    let per_node = combine(
        ResponsePolicy::Special(Special::Info),
        vec![ok("h:1", bulk("# a")), ok("h:2", bulk("# b"))],
    )
    .unwrap();
    assert_eq!(
        per_node,
        Value::Map(vec![(bulk("h:1"), bulk("# a")), (bulk("h:2"), bulk("# b"))])
    );
    let random = combine(
        ResponsePolicy::Special(Special::RandomKey),
        vec![ok("a", Value::Nil), ok("b", bulk("k"))],
    )
    .unwrap();
    assert_eq!(random, bulk("k"));
    let stats = |running: Value| {
        Value::Map(vec![
            (bulk("running_script"), running),
            (bulk("engines"), bulk("e")),
        ])
    };
    let busy = stats(bulk("f"));
    let picked = combine(
        ResponsePolicy::Special(Special::FunctionStats),
        vec![ok("a", stats(Value::Nil)), ok("b", busy.clone())],
    )
    .unwrap();
    assert_eq!(picked, busy);
    assert!(combine(
        ResponsePolicy::Special(Special::Scan),
        vec![ok("a", int(0))]
    )
    .is_err());
}

#[test]
fn split_replies_go_back_in_argument_order() {
    let parts = vec![
        Part {
            slot: 1,
            args: vec![0, 1, 3],
            count: None,
            groups: vec![0, 2],
        },
        Part {
            slot: 2,
            args: vec![0, 2],
            count: None,
            groups: vec![1],
        },
    ];
    let replies = vec![
        Ok(Value::Array(vec![bulk("a"), bulk("c")])),
        Ok(Value::Array(vec![bulk("b")])),
    ];
    assert_eq!(
        reassemble(Merge::InOrder, &parts, 3, replies).unwrap(),
        Value::Array(vec![bulk("a"), bulk("b"), bulk("c")])
    );
    let short = vec![
        Ok(Value::Array(vec![bulk("a")])),
        Ok(Value::Array(vec![bulk("b")])),
    ];
    assert!(reassemble(Merge::InOrder, &parts, 3, short).is_err());
    let sums = vec![Ok(int(2)), Ok(int(1))];
    assert_eq!(
        reassemble(Merge::Policy(ResponsePolicy::AggSum), &parts, 3, sums).unwrap(),
        int(3)
    );
}
