//! The exhaustive search behind `check`: depth- or breadth-first over the model's states,
//! on several threads that share one set of 64-bit fingerprints.
//!
//! It visits exactly the states stateright's checkers visit (the same successors, the same
//! set of reachable states, the same counts of unique and generated states) and evaluates
//! the same [`stateright::Property`] conditions; stateright still serves the Explorer, the
//! walks and the readable [`stateright::Path`]s. What it does not do, per state, is what
//! made stateright's loop costly here: look up every property's discovery by name (a
//! SipHash each), record a sometimes-property again each time it holds, and copy the path
//! into every successor. Here a state evaluates only the properties still open, and each
//! visited state remembers the fingerprint of the state it was reached from; the path to a
//! discovery is rebuilt from those at the end, by replaying the model.
//!
//! Where the model allows it ([`FailoverModel::sleep_sets_apply`]), the search keeps sleep
//! sets ([`crate::reduction`]): each state remembers the steps it need not take, and a
//! state reached again with fewer of them asleep takes the ones that woke. The same states
//! are visited; fewer successors are generated.

use crate::model::FailoverModel;
use crate::reduction::{self, Footprint};
use crate::state::{Action, State};
use stateright::{Expectation, Model, Path};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The order in which a worker takes states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Newest first: a short frontier, little memory.
    DepthFirst,
    /// Oldest first: with one thread, each state is reached by a shortest path.
    BreadthFirst,
}

/// What the search is asked to do.
pub struct Request<'a> {
    /// The order of the search.
    pub order: Order,
    /// Worker threads (at least one).
    pub threads: usize,
    /// States this many steps deep (the initial state is 1) are checked but not expanded.
    pub max_depth: usize,
    /// Stop once these properties (indices into the model's properties) all have a
    /// discovery: every property is always in this set, since nothing is left to learn.
    pub stop_when_any: Vec<usize>,
    /// Called about every 200 ms with the progress so far; returning false stops the
    /// search (a time or memory bound).
    pub keep_going: &'a mut dyn FnMut(&Progress) -> bool,
    /// Keep sleep sets where the model allows them.
    pub sleep_sets: bool,
}

/// Progress of a running search.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// Unique states found.
    pub unique: usize,
    /// States generated, repeats included.
    pub generated: usize,
    /// Deepest state taken so far (the initial state is 1).
    pub max_depth: usize,
}

/// How a search ended.
pub struct Outcome {
    /// The final counts.
    pub progress: Progress,
    /// Whether every reachable state within the depth bound was expanded: nothing stopped
    /// the search.
    pub finished: bool,
    /// Per property, in the model's order: the path to the first state found where it was
    /// discovered (violated or witnessed).
    pub discoveries: Vec<Option<Path<State, Action>>>,
}

/// A fingerprint is already a hash: the table uses it as it is.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only fingerprints are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// What the table keeps per state: the fingerprint of the state it was first reached
/// from, and (with sleep sets) the names of the steps asleep there.
trait Entry: Copy + Send {
    fn new(parent: u64, asleep: u64) -> Self;
    fn parent(&self) -> u64;
    /// The steps asleep until now; keeps asleep only those also in `asleep`.
    fn meet(&mut self, asleep: u64) -> u64;
}

/// Without sleep sets: the parent alone (8 bytes a state).
impl Entry for u64 {
    fn new(parent: u64, _: u64) -> Self {
        parent
    }
    fn parent(&self) -> u64 {
        *self
    }
    fn meet(&mut self, _: u64) -> u64 {
        0
    }
}

/// With sleep sets: the parent and the steps asleep.
impl Entry for (u64, u64) {
    fn new(parent: u64, asleep: u64) -> Self {
        (parent, asleep)
    }
    fn parent(&self) -> u64 {
        self.0
    }
    fn meet(&mut self, asleep: u64) -> u64 {
        let before = self.1;
        self.1 &= asleep;
        before
    }
}

type Table<E> = HashMap<u64, E, BuildHasherDefault<Identity>>;

/// What [`Visited::insert`] found.
enum Seen {
    /// A new state.
    New,
    /// A known state, and the steps that were asleep there until now.
    Known {
        /// The sleep set recorded before this visit.
        asleep: u64,
    },
}

/// Shards of the fingerprint → parent table, so that threads seldom wait for each other.
const SHARDS: usize = 64;

/// A state's 64-bit fingerprint, with fixed seeds as the node slots hash themselves (never
/// 0: 0 marks the initial state's missing parent).
pub fn fingerprint(state: &State) -> u64 {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
        .hash_one(state)
        .max(1)
}

/// Every state found, with the fingerprint of the state it was first reached from.
struct Visited<E> {
    shards: Vec<Mutex<Table<E>>>,
}

impl<E: Entry> Visited<E> {
    fn new() -> Self {
        Visited {
            shards: (0..SHARDS).map(|_| Mutex::new(Table::default())).collect(),
        }
    }

    /// The table holds the fingerprint's low bits as bucket index and its top bits as tag:
    /// the shard is chosen by bits in between.
    fn shard(&self, fp: u64) -> &Mutex<Table<E>> {
        &self.shards[(fp >> 32) as usize % SHARDS]
    }

    /// Records `fp`, reached from `parent` with the steps `asleep` asleep; a known state
    /// keeps asleep only what is asleep on both visits.
    fn insert(&self, fp: u64, parent: u64, asleep: u64) -> Seen {
        let mut shard = self.shard(fp).lock().expect("no worker panics");
        match shard.entry(fp) {
            std::collections::hash_map::Entry::Occupied(mut o) => Seen::Known {
                asleep: o.get_mut().meet(asleep),
            },
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(E::new(parent, asleep));
                Seen::New
            }
        }
    }

    fn parent(&self, fp: u64) -> Option<u64> {
        self.shard(fp)
            .lock()
            .expect("no worker panics")
            .get(&fp)
            .map(Entry::parent)
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("no worker panics").len())
            .sum()
    }
}

/// Steps asleep at a state (seldom more than a few).
type Asleep = smallvec::SmallVec<[Footprint; 4]>;

/// A state waiting to be expanded.
struct Job {
    state: State,
    fingerprint: u64,
    depth: usize,
    /// The steps asleep here, with what each did where it was taken.
    asleep: Asleep,
    /// A visit again: only the steps of these names are taken (they were asleep at the
    /// earlier visits and woke on this one), and the properties are not judged again.
    woken: Option<u64>,
}

/// What the workers share.
struct Shared<'m, E> {
    model: &'m FailoverModel,
    properties: Vec<stateright::Property<FailoverModel>>,
    visited: Visited<E>,
    /// Jobs given away by busy workers to idle ones.
    pool: Mutex<Vec<Job>>,
    work_given: Condvar,
    /// Workers waiting for a job.
    idle: AtomicUsize,
    threads: usize,
    stop: AtomicBool,
    /// Bit `i`: property `i` has a discovery.
    discovered: AtomicU64,
    /// Fingerprint of each property's first discovery.
    found: Mutex<Vec<Option<u64>>>,
    /// Stop once any of these bits is discovered (besides all of them).
    stop_mask: u64,
    generated: AtomicUsize,
    unique: AtomicUsize,
    max_depth: AtomicUsize,
    request_max_depth: usize,
    order: Order,
    sleep_sets: bool,
}

impl<E: Entry> Shared<'_, E> {
    fn all_bits(&self) -> u64 {
        match self.properties.len() {
            64 => u64::MAX,
            n => (1u64 << n) - 1,
        }
    }

    /// Evaluates the open properties at `job`; false once the search should stop.
    fn evaluate(&self, job: &Job) -> bool {
        let mut known = self.discovered.load(Ordering::Relaxed);
        let all = self.all_bits();
        let mut open = !known & all;
        while open != 0 {
            let i = open.trailing_zeros() as usize;
            open &= open - 1;
            let property = &self.properties[i];
            let holds = (property.condition)(self.model, &job.state);
            let discovery = match property.expectation {
                Expectation::Always => !holds,
                Expectation::Sometimes => holds,
                Expectation::Eventually => unreachable!("no eventually-properties here"),
            };
            if discovery {
                let mut found = self.found.lock().expect("no worker panics");
                if found[i].is_none() {
                    found[i] = Some(job.fingerprint);
                }
                known = self.discovered.fetch_or(1 << i, Ordering::Relaxed) | (1 << i);
            }
        }
        if known == all || known & self.stop_mask != 0 {
            self.stop.store(true, Ordering::Relaxed);
            self.work_given.notify_all();
            return false;
        }
        true
    }

    /// A job from the pool; `None` when the search is over (stopped, or every worker idle
    /// with nothing left to give).
    fn take(&self) -> Option<Job> {
        let mut pool = self.pool.lock().expect("no worker panics");
        self.idle.fetch_add(1, Ordering::SeqCst);
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(job) = pool.pop() {
                self.idle.fetch_sub(1, Ordering::SeqCst);
                return Some(job);
            }
            if self.idle.load(Ordering::SeqCst) == self.threads {
                self.work_given.notify_all();
                return None;
            }
            pool = self
                .work_given
                .wait_timeout(pool, Duration::from_millis(50))
                .expect("no worker panics")
                .0;
        }
    }

    /// One worker: expands states until the search is over.
    fn work(&self, mut local: VecDeque<Job>) {
        let mut actions = Vec::new();
        let (mut generated, mut unique, mut deepest) = (0usize, 0usize, 0usize);
        let mut since_flush = 0u32;
        loop {
            let next = match self.order {
                Order::DepthFirst => local.pop_back(),
                Order::BreadthFirst => local.pop_front(),
            };
            let job = match next {
                Some(job) => job,
                None => {
                    self.flush(&mut generated, &mut unique, deepest);
                    match self.take() {
                        Some(job) => job,
                        None => return,
                    }
                }
            };
            deepest = deepest.max(job.depth);
            if job.woken.is_none() && !self.evaluate(&job) {
                break;
            }
            if job.depth < self.request_max_depth {
                self.model.actions(&job.state, &mut actions);
                // The sleep set grows with each step taken here: a later sibling that
                // commutes with it need not take it.
                let mut asleep = job.asleep;
                for action in actions.drain(..) {
                    let id = if self.sleep_sets {
                        self.model.step_id(&job.state, &action)
                    } else {
                        None
                    };
                    let wanted = match (id, job.woken) {
                        (Some(id), _) if reduction::bits(&asleep) & 1 << id != 0 => false,
                        (Some(id), Some(woken)) => woken & 1 << id != 0,
                        (None, Some(_)) => false,
                        (_, None) => true,
                    };
                    if !wanted {
                        continue;
                    }
                    let Some(next) = self.model.next_state(&job.state, action.clone()) else {
                        continue;
                    };
                    generated += 1;
                    let footprint =
                        id.and_then(|_| self.model.footprint(&job.state, &action, &next));
                    let next_asleep: Asleep = match &footprint {
                        Some(taken) => asleep
                            .iter()
                            .filter(|b| reduction::independent(taken, b))
                            .copied()
                            .collect(),
                        None => Asleep::new(),
                    };
                    let fp = fingerprint(&next);
                    // A step that changed nothing (a tick with nothing to do) leads back
                    // here: nothing to look up, and nothing it could wake.
                    if fp != job.fingerprint {
                        let names = reduction::bits(&next_asleep);
                        match self.visited.insert(fp, job.fingerprint, names) {
                            Seen::New => {
                                unique += 1;
                                local.push_back(Job {
                                    state: next,
                                    fingerprint: fp,
                                    depth: job.depth + 1,
                                    asleep: next_asleep,
                                    woken: None,
                                });
                            }
                            Seen::Known { asleep: before } if before & !names != 0 => {
                                local.push_back(Job {
                                    state: next,
                                    fingerprint: fp,
                                    depth: job.depth + 1,
                                    asleep: next_asleep
                                        .into_iter()
                                        .filter(|b| before & b.bit() != 0)
                                        .collect(),
                                    woken: Some(before & !names),
                                });
                            }
                            Seen::Known { .. } => {}
                        }
                    }
                    if let Some(taken) = footprint {
                        asleep.push(taken);
                    }
                }
            }
            since_flush += 1;
            if since_flush == 1024 {
                since_flush = 0;
                self.flush(&mut generated, &mut unique, deepest);
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                self.share(&mut local);
            }
        }
        self.flush(&mut generated, &mut unique, deepest);
    }

    /// Gives half of the local jobs to idle workers, the ones nearest the initial state
    /// (the largest parts of the space left).
    fn share(&self, local: &mut VecDeque<Job>) {
        if self.idle.load(Ordering::Relaxed) == 0 || local.len() < 2 {
            return;
        }
        let half = local.len() / 2;
        let mut pool = self.pool.lock().expect("no worker panics");
        match self.order {
            Order::DepthFirst => pool.extend(local.drain(..half)),
            Order::BreadthFirst => pool.extend(local.drain(local.len() - half..).rev()),
        }
        self.work_given.notify_all();
    }

    fn flush(&self, generated: &mut usize, unique: &mut usize, deepest: usize) {
        self.generated.fetch_add(*generated, Ordering::Relaxed);
        self.unique.fetch_add(*unique, Ordering::Relaxed);
        self.max_depth.fetch_max(deepest, Ordering::Relaxed);
        (*generated, *unique) = (0, 0);
    }

    fn progress(&self) -> Progress {
        Progress {
            unique: self.unique.load(Ordering::Relaxed),
            generated: self.generated.load(Ordering::Relaxed),
            max_depth: self.max_depth.load(Ordering::Relaxed),
        }
    }

    /// The initial state and the actions that lead from it to the state of fingerprint
    /// `target`.
    fn path_to(&self, inits: &[State], target: u64) -> (State, Vec<Action>) {
        let mut chain = vec![target];
        while let Some(parent) = self.visited.parent(*chain.last().expect("not empty")) {
            if parent == 0 {
                break;
            }
            chain.push(parent);
        }
        let root = chain.pop().expect("not empty");
        let init = inits
            .iter()
            .find(|s| fingerprint(s) == root)
            .expect("a chain of parents ends at an initial state");
        let mut state = init.clone();
        let mut path = Vec::new();
        let mut actions = Vec::new();
        while let Some(want) = chain.pop() {
            self.model.actions(&state, &mut actions);
            let (action, next) = actions
                .drain(..)
                .find_map(|a| {
                    let next = self.model.next_state(&state, a.clone())?;
                    (fingerprint(&next) == want).then_some((a, next))
                })
                .expect("a recorded parent has the recorded successor");
            path.push(action);
            state = next;
        }
        (init.clone(), path)
    }
}

/// Searches the model's states as `request` asks.
pub fn search(model: &FailoverModel, request: Request<'_>) -> Outcome {
    if request.sleep_sets && model.sleep_sets_apply() {
        search_with::<(u64, u64)>(model, request)
    } else {
        search_with::<u64>(model, request)
    }
}

fn search_with<E: Entry>(model: &FailoverModel, request: Request<'_>) -> Outcome {
    let properties = model.properties();
    assert!(properties.len() <= 64, "at most 64 properties");
    let stop_mask = request
        .stop_when_any
        .iter()
        .fold(0u64, |mask, &i| mask | (1 << i));
    let threads = request.threads.max(1);
    let shared = Shared {
        model,
        found: Mutex::new(vec![None; properties.len()]),
        properties,
        visited: Visited::<E>::new(),
        pool: Mutex::new(Vec::new()),
        work_given: Condvar::new(),
        idle: AtomicUsize::new(0),
        threads,
        stop: AtomicBool::new(false),
        discovered: AtomicU64::new(0),
        stop_mask,
        generated: AtomicUsize::new(0),
        unique: AtomicUsize::new(0),
        max_depth: AtomicUsize::new(0),
        request_max_depth: request.max_depth,
        order: request.order,
        sleep_sets: request.sleep_sets && model.sleep_sets_apply(),
    };
    let inits = model.init_states();
    let mut first = VecDeque::new();
    for state in inits.iter() {
        let fp = fingerprint(state);
        shared.generated.fetch_add(1, Ordering::Relaxed);
        if let Seen::New = shared.visited.insert(fp, 0, 0) {
            shared.unique.fetch_add(1, Ordering::Relaxed);
            first.push_back(Job {
                state: state.clone(),
                fingerprint: fp,
                depth: 1,
                asleep: Asleep::new(),
                woken: None,
            });
        }
    }
    let keep_going = request.keep_going;
    std::thread::scope(|scope| {
        let shared = &shared;
        // Each worker says when it is done, so a small search ends at once rather than at
        // the next look at the bounds.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let mut first = Some(first);
        for _ in 0..threads {
            let local = first.take().unwrap_or_default();
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                shared.work(local);
                let _ = done_tx.send(());
            });
        }
        let mut done = 0;
        while done < threads {
            match done_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(()) => done += 1,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => unreachable!("the sender is held here"),
            }
            if !shared.stop.load(Ordering::Relaxed) && !keep_going(&shared.progress()) {
                shared.stop.store(true, Ordering::Relaxed);
                shared.work_given.notify_all();
            }
        }
    });
    let finished = !shared.stop.load(Ordering::Relaxed);
    let found = shared.found.lock().expect("no worker panics").clone();
    let discoveries = found
        .into_iter()
        .map(|fp| {
            let (init, actions) = shared.path_to(&inits, fp?);
            Path::from_actions(model, init, &actions)
        })
        .collect();
    debug_assert_eq!(shared.visited.len(), shared.unique.load(Ordering::Relaxed));
    Outcome {
        progress: shared.progress(),
        finished,
        discoveries,
    }
}
