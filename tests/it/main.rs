//! fleksim's one integration test crate (a module per concern).

mod ages;
mod bad_input;
mod check;
mod cli;
mod compare;
mod compose;
mod determinism;
mod exact;
mod help;
mod history;
mod hostile;
mod layers;
mod model;
mod prices;
mod proposals;
mod publish;
mod report;
mod runs;
mod schedule;
mod shards;
mod streams;
mod sweep;
mod util;
mod variants;
mod verify;
