//! Test harness: real servers on loopback, spawned in temp dirs and stopped on drop.
