//! The cluster part of `cargo xtask demo`: a throwaway 3-primary, 3-replica cluster and
//! `examples/cluster.rs` against it.

use redis_test_harness::{ClusterSetup, ServerKind};

/// Starts the cluster, runs the example with one node as its seed, stops the cluster.
pub fn run(run_example: impl Fn(&str, &str) -> Result<(), String>) -> Result<(), String> {
    let cluster = ClusterSetup::builder(ServerKind::Redis)
        .spawn()
        .map_err(|e| e.to_string())?;
    println!(
        "\ndemo: started a cluster of {} nodes ({} …), removed afterwards",
        cluster.nodes().len(),
        cluster.nodes()[0].addr()
    );
    println!("demo: examples/cluster.rs");
    let result = run_example("cluster", &cluster.nodes()[0].url());
    drop(cluster);
    result
}
