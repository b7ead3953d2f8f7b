//! Ingest and bulk reprocessing: photos, archives and footage in, reads in
//! the store, nothing lost, nothing twice.
//!
//! ```text
//! INPUT... --source::discover--> sources (sorted) --SHA-256--> ledger: new / planned / done
//!   --plan batches (ledger 'planned')--> per batch:
//!      producer thread: members (zip/tar streamed) -> decode (rayon) / video frames
//!                       -> chunks of frames --bounded queue-->
//!      consumer: FrameReader (detect + read) -> reads (video: one per pass)
//!   --store::writer (idempotent per batch id)--> ledger 'done' + hot-list alerts (one transaction)
//! ```
//!
//! Everything is deterministic (source order, batch ids, read ids), so a run
//! killed at any moment and run again leaves the store a clean run leaves.
//! One bad member (corrupt photo, no capture time, a video that does not
//! decode) is skipped with its reason; the rest of the batch goes on.

pub mod context;
pub mod ledger;
pub mod passes;
pub mod source;
pub mod video;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::audit::Access;
use crate::audit::access::Action;
use crate::audit::alerts::{self, Alert};
use crate::audit::log::{self, Outcome};
use crate::error::{Error, Result};
use crate::gpu::Planes;
use crate::recognize::decode::decode_bytes;
use crate::recognize::reader::{FoundPlate, FrameReader};
use crate::store::schema::{PlateBox, Read, ReadBatchBuilder};
use crate::store::writer::write_reads;
use crate::store::{Store, batches};
use context::{Place, Rules, Sidecar};
use ledger::Replaces;
use passes::FrameReads;
use source::{Kind, Member, Source};

/// Photos per batch (one Parquet file per batch and date).
pub const BATCH_PHOTOS: usize = 256;
/// Frames handed to the reader at once.
pub const CHUNK_FRAMES: usize = 16;

/// What an ingest run is asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<PathBuf>,
    pub rules: Rules,
    /// Frames per second kept from video.
    pub fps: f64,
    /// Re-read sources read before with another model version, replacing
    /// their reads.
    pub reprocess: bool,
    /// Threads that hash, decode and read; `None`: as many as rayon's
    /// global pool has (every core, or `RAYON_NUM_THREADS`). A reader on the
    /// CPU ([`FrameReader::on_cpu`]) gets half of them, decoding the rest;
    /// otherwise the stages share them.
    pub threads: Option<usize>,
}

/// The threads an ingest run works on. Decoding runs on a producer thread
/// of its own, outside any pool, so a pool installed around [`run`] would
/// not reach it; every parallel step goes through [`Workers`] instead.
///
/// A reader on the CPU gets half the threads (rounded up), decoding the
/// rest, and the two stages overlap: on 2 cores, 1 + 1 threads ingested
/// 54-57 generated 1080p images/s where one pool of 2 shared by both
/// stages ingested 42-43, the reader's fine-grained parallelism costing
/// more than a pipeline (`alpr bench ingest --views 1`). A GPU reader needs
/// the cores for decoding, so it shares them, as does a single thread.
enum Workers {
    /// Rayon's global pool for both stages.
    Global,
    /// One pool for both stages (`alpr-ingest-N`).
    Shared(rayon::ThreadPool),
    /// Decoding and hashing (`alpr-decode-N`) beside reading (`alpr-read-N`).
    Split {
        decode: rayon::ThreadPool,
        read: rayon::ThreadPool,
    },
}

impl Workers {
    fn new(threads: Option<usize>, reader_on_cpu: bool) -> Result<Self> {
        let pool = |n: usize, name: &'static str| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(move |i| format!("alpr-{name}-{i}"))
                .build()
                .map_err(|e| Error::bad_input(format!("cannot start {n} threads: {e}")))
        };
        let n = threads.unwrap_or_else(rayon::current_num_threads);
        Ok(if reader_on_cpu && n >= 2 {
            Workers::Split {
                decode: pool(n / 2, "decode")?,
                read: pool(n - n / 2, "read")?,
            }
        } else if threads.is_some() {
            Workers::Shared(pool(n, "ingest")?)
        } else {
            Workers::Global
        })
    }

    /// Runs `f`, a decoding or hashing step, on its threads.
    fn decoding<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self {
            Workers::Global => f(),
            Workers::Shared(pool) | Workers::Split { decode: pool, .. } => pool.install(f),
        }
    }

    /// Runs `f`, a reading step, on its threads.
    fn reading<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self {
            Workers::Global => f(),
            Workers::Shared(pool) | Workers::Split { read: pool, .. } => pool.install(f),
        }
    }
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub sources: usize,
    pub already_done: usize,
    pub duplicates: usize,
    pub batches: usize,
    pub frames: u64,
    pub reads: u64,
    pub alerts: u64,
    pub replaced_batches: usize,
    /// Every input or member skipped, with its reason.
    pub skipped: Vec<(String, String)>,
}

/// One decoded frame and where it came from.
struct Frame {
    source: usize,
    member: String,
    member_sha: String,
    frame: i64,
    ts_us: i64,
    place: Place,
    planes: Planes,
    video: bool,
}

/// Messages from the decoding thread.
enum Work {
    Frames(Vec<Frame>),
    /// The member ended (videos: group its passes now).
    EndOfMember(usize, String),
    /// A member passed over: its source, label, reason, and whether a
    /// flag could fix it (then the source is retried next run).
    Skipped(usize, String, String, bool),
}

/// A source with its hash, as planned into a batch.
#[derive(Debug, Clone)]
struct Planned {
    source: Source,
    sha: String,
}

/// Runs an ingest for `access` (logged in for [`Action::Ingest`]).
pub fn run(
    access: &Access,
    store: &Store,
    config: &Config,
    reader: &dyn FrameReader,
    progress: &dyn Fn(&Summary),
) -> Result<Summary> {
    let model = reader.model_version();
    let workers = Workers::new(config.threads, reader.on_cpu())?;
    let (sources, skipped) = source::discover(&config.inputs)?;
    let mut summary = Summary {
        sources: sources.len(),
        skipped: skipped
            .into_iter()
            .map(|(p, why)| (p.display().to_string(), why))
            .collect(),
        ..Summary::default()
    };
    let hashed: Vec<(Source, Result<String>)> = workers.decoding(|| {
        sources
            .into_par_iter()
            .map(|s| {
                let h = source::sha256_file(&s.path);
                (s, h)
            })
            .collect()
    });
    let states = access.catalog.read(|c| ledger::states(c, &model))?;
    let older = if config.reprocess {
        access.catalog.read(|c| ledger::other_versions(c, &model))?
    } else {
        HashMap::new()
    };
    let mut seen = HashSet::new();
    let mut resumed: Vec<(String, Vec<Planned>, Replaces)> = Vec::new();
    let mut fresh: Vec<(Planned, Replaces)> = Vec::new();
    for (source, sha) in hashed {
        let sha = match sha {
            Ok(s) => s,
            Err(e) => {
                summary
                    .skipped
                    .push((source.path.display().to_string(), e.to_string()));
                continue;
            }
        };
        if !seen.insert(sha.clone()) {
            summary.duplicates += 1;
            continue;
        }
        let planned = Planned { source, sha };
        // Photos' reads carry the photo's own hash; an archive or a video
        // is alone in its batch.
        let key = if planned.source.kind() == Kind::Photo {
            planned.sha.clone()
        } else {
            batches::ALL.to_string()
        };
        match states.get(&planned.sha) {
            Some(ledger::State::Done { problems }) => {
                summary.already_done += 1;
                // Still not in the store: said again on every run.
                for (what, why) in problems {
                    summary.skipped.push((
                        what.clone(),
                        format!("{why} (found by an earlier run; the source is unchanged)"),
                    ));
                }
            }
            Some(ledger::State::Planned { batch_id, replaces }) => {
                match resumed.iter_mut().find(|(b, _, _)| b == batch_id) {
                    Some((_, v, r)) => {
                        v.push(planned);
                        r.extend(replaces.iter().cloned());
                    }
                    None => resumed.push((batch_id.clone(), vec![planned], replaces.clone())),
                }
            }
            Some(ledger::State::Partial { batch_id }) => {
                fresh.push((planned, vec![(batch_id.clone(), key)]));
            }
            None => {
                let replaces = older
                    .get(&planned.sha)
                    .map(|old| old.iter().map(|b| (b.clone(), key.clone())).collect())
                    .unwrap_or_default();
                fresh.push((planned, replaces));
            }
        }
    }
    let mut work = resumed;
    for (group, replaces) in plan_batches(fresh) {
        let id = batch_id(&model, &group, &replaces);
        let rows: Vec<(String, String)> = group
            .iter()
            .map(|p| (p.sha.clone(), p.source.path.display().to_string()))
            .collect();
        access
            .catalog
            .transaction(|tx| ledger::plan_in(tx, &model, &id, &rows, &replaces))?;
        work.push((id, group, replaces));
    }
    let hotlist = hotlist_index(store)?;
    for (id, group, replaces) in &work {
        let out = run_batch(config, &workers, reader, &model, id, group)?;
        summary.frames += out.frames;
        summary.skipped.extend(out.skipped.iter().cloned());
        let reads = &out.reads;
        let hits = hits_of(&hotlist, reads);
        let mut builder = ReadBatchBuilder::new();
        for r in reads {
            builder.append(r);
        }
        if replaces.is_empty() {
            write_reads(store, id, &[builder.finish()])?;
        } else {
            // Readers see the old reads or the new, never both or neither.
            batches::update(store, &[(id.clone(), batches::ALL.into())], &[])?;
            write_reads(store, id, &[builder.finish()])?;
            batches::update(store, replaces, std::slice::from_ref(id))?;
        }
        let endings: Vec<ledger::Finished> = group
            .iter()
            .map(|p| {
                let get = |m: &HashMap<String, i64>| m.get(&p.sha).copied().unwrap_or(0);
                let ending = match (out.retry.contains(&p.sha), p.source.kind()) {
                    (false, _) => ledger::Ending::Done,
                    (true, Kind::Photo) => ledger::Ending::Forget,
                    (true, _) => ledger::Ending::Partial,
                };
                (
                    p.sha.clone(),
                    ending,
                    get(&out.frames_by_source),
                    get(&out.reads_by_source),
                    out.problems.get(&p.sha).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let now = Utc::now();
        let found_by = format!("ingest by {}", access.principal.name);
        let new_alerts = log::commit(&access.catalog, |tx| {
            ledger::finish_in(tx, &model, id, &endings)?;
            for p in group {
                if older.contains_key(&p.sha) {
                    ledger::forget_older_in(tx, &p.sha, &model)?;
                }
            }
            let n = alerts::insert_all_in(tx, &hits, &found_by, now)?;
            let entry = log::append_in(
                tx,
                access.principal.entry(
                    Action::Ingest,
                    Outcome::Ok,
                    serde_json::json!({
                        "batch": id, "sources": group.len(), "reads": reads.len(),
                        "model": model, "alerts": n, "replaces": replaces,
                    }),
                ),
                now,
            )?;
            Ok((n, entry))
        })?;
        // Old batches none of whose sources still need them go for good.
        let mut old: Vec<&String> = replaces.iter().map(|(b, _)| b).collect();
        old.sort();
        old.dedup();
        let shas: Vec<String> = group.iter().map(|p| p.sha.clone()).collect();
        for b in old {
            let in_use = access.catalog.read(|c| ledger::batch_in_use(c, b, &shas))?;
            if !in_use {
                batches::delete(store, std::slice::from_ref(b))?;
                summary.replaced_batches += 1;
            }
        }
        summary.batches += 1;
        summary.reads += reads.len() as u64;
        summary.alerts += new_alerts as u64;
        progress(&summary);
    }
    Ok(summary)
}

/// Photos in groups of [`BATCH_PHOTOS`]; each archive or video alone;
/// each group with the older reads it replaces.
fn plan_batches(sources: Vec<(Planned, Replaces)>) -> Vec<(Vec<Planned>, Replaces)> {
    let mut out = Vec::new();
    let mut photos: (Vec<Planned>, Replaces) = (Vec::new(), Vec::new());
    for (p, r) in sources {
        if p.source.kind() == Kind::Photo {
            photos.0.push(p);
            photos.1.extend(r);
            if photos.0.len() == BATCH_PHOTOS {
                out.push(std::mem::take(&mut photos));
            }
        } else {
            out.push((vec![p], r));
        }
    }
    if !photos.0.is_empty() {
        out.push(photos);
    }
    out
}

fn batch_id(model: &str, group: &[Planned], replaces: &Replaces) -> String {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    for p in group {
        h.update(p.sha.as_bytes());
    }
    for (b, s) in replaces {
        h.update(b.as_bytes());
        h.update(s.as_bytes());
    }
    format!("ing-{}", &hex::encode(h.finalize())[..24])
}

struct BatchOut {
    reads: Vec<Read>,
    frames: u64,
    frames_by_source: HashMap<String, i64>,
    reads_by_source: HashMap<String, i64>,
    skipped: Vec<(String, String)>,
    /// Sources with a member skipped for a fixable reason (camera, time).
    retry: HashSet<String>,
    /// Per source, what of it could not be read for good (what, why).
    problems: HashMap<String, Vec<(String, String)>>,
}

/// Decodes and reads one batch: a producer thread decodes members into
/// chunks of frames sent through a bounded queue; this thread reads them.
fn run_batch(
    config: &Config,
    workers: &Workers,
    reader: &dyn FrameReader,
    model: &str,
    batch: &str,
    group: &[Planned],
) -> Result<BatchOut> {
    let (tx, rx) = sync_channel::<Work>(2);
    let mut out = BatchOut {
        reads: Vec::new(),
        frames: 0,
        frames_by_source: HashMap::new(),
        reads_by_source: HashMap::new(),
        skipped: Vec::new(),
        retry: HashSet::new(),
        problems: HashMap::new(),
    };
    // Per video being read: its first frame's metadata, the passes still
    // open, and how many passes it has given so far.
    let mut videos: HashMap<(usize, String), (Frame, passes::Passes, usize)> = HashMap::new();
    std::thread::scope(|scope| -> Result<()> {
        let producer = scope.spawn(|| produce(config, workers, group, tx));
        for work in rx {
            match work {
                Work::Skipped(source, what, why, retry) => {
                    let sha = group[source].sha.clone();
                    if retry {
                        out.retry.insert(sha);
                    } else {
                        out.problems
                            .entry(sha)
                            .or_default()
                            .push((what.clone(), why.clone()));
                    }
                    out.skipped.push((what, why));
                }
                Work::Frames(frames) => {
                    let planes: Vec<&Planes> = frames.iter().map(|f| &f.planes).collect();
                    let found = workers.reading(|| reader.read(&planes))?;
                    for (f, plates) in frames.into_iter().zip(found) {
                        out.frames += 1;
                        *out.frames_by_source
                            .entry(group[f.source].sha.clone())
                            .or_default() += 1;
                        if f.video {
                            let key = (f.source, f.member.clone());
                            let reads = FrameReads {
                                frame: f.frame,
                                ts_us: f.ts_us,
                                plates,
                            };
                            let (meta, open, given) = videos
                                .entry(key)
                                .or_insert_with(|| (meta_clone(&f), passes::Passes::default(), 0));
                            for pass in open.push(reads) {
                                out.add(pass_read(
                                    config,
                                    &group[f.source],
                                    meta,
                                    pass,
                                    *given,
                                    model,
                                    batch,
                                ));
                                *given += 1;
                            }
                            continue;
                        }
                        for (i, p) in plates.into_iter().enumerate() {
                            out.add(to_read(
                                &group[f.source],
                                &f,
                                f.frame,
                                f.ts_us,
                                i,
                                p,
                                None,
                                model,
                                batch,
                            ));
                        }
                    }
                }
                Work::EndOfMember(source, member) => {
                    if let Some((meta, open, mut given)) = videos.remove(&(source, member)) {
                        for pass in open.finish() {
                            out.add(pass_read(
                                config,
                                &group[source],
                                &meta,
                                pass,
                                given,
                                model,
                                batch,
                            ));
                            given += 1;
                        }
                    }
                }
            }
        }
        producer
            .join()
            .map_err(|_| Error::bad_input("the decoding thread panicked"))?
    })?;
    Ok(out)
}

impl BatchOut {
    /// Adds a read, counted against its source.
    fn add(&mut self, (sha, read): (String, Read)) {
        *self.reads_by_source.entry(sha).or_default() += 1;
        self.reads.push(read);
    }
}

/// The read of a closed pass of a video whose first frame was `meta`: the
/// best frame's time and the place at that time.
#[allow(clippy::too_many_arguments)]
fn pass_read(
    config: &Config,
    planned: &Planned,
    meta: &Frame,
    pass: passes::Pass,
    index: usize,
    model: &str,
    batch: &str,
) -> (String, Read) {
    let place = config
        .rules
        .place(meta.place.camera_id.clone(), pass.ts_us, None, None);
    let f = Frame {
        place,
        ..meta_clone(meta)
    };
    to_read(
        planned,
        &f,
        pass.frame,
        pass.ts_us,
        index,
        pass.plate,
        Some(pass.frames),
        model,
        batch,
    )
}

fn meta_clone(f: &Frame) -> Frame {
    Frame {
        source: f.source,
        member: f.member.clone(),
        member_sha: f.member_sha.clone(),
        frame: f.frame,
        ts_us: f.ts_us,
        place: f.place.clone(),
        planes: Planes::new(0, 0, 0, vec![]).expect("empty planes"),
        video: f.video,
    }
}

/// The decoding side of [`run_batch`]. Only the decoding itself runs on
/// `workers`: a worker blocked on the full queue would starve the reader.
fn produce(
    config: &Config,
    workers: &Workers,
    group: &[Planned],
    tx: std::sync::mpsc::SyncSender<Work>,
) -> Result<()> {
    let send = |w: Work| {
        tx.send(w)
            .map_err(|_| Error::bad_input("the reading side stopped"))
    };
    for (si, planned) in group.iter().enumerate() {
        let src = &planned.source;
        let label = |member: &str| {
            if src.kind().is_archive() {
                format!("{}!{member}", src.path.display())
            } else {
                src.path.display().to_string()
            }
        };
        // Sidecars first (an archive may list them after their photos; a
        // photo file's sidecar is the .json beside it).
        let mut sidecars: HashMap<String, Sidecar> = HashMap::new();
        let beside = src.path.with_extension("json");
        if src.kind() == Kind::Photo && beside.is_file() {
            let parsed = std::fs::read(&beside)
                .map_err(|e| Error::io(&beside, e))
                .and_then(|b| Sidecar::parse(&beside.display().to_string(), &b));
            match parsed {
                Ok(sc) => {
                    let name = src.path.file_name().unwrap_or_default().to_string_lossy();
                    sidecars.insert(stem(&name), sc);
                }
                Err(e) => send(Work::Skipped(
                    si,
                    beside.display().to_string(),
                    e.to_string(),
                    true,
                ))?,
            }
        }
        // An archive may list sidecars after their photos: a first pass
        // reads only the sidecars, so the second can stream photos in chunks
        // (memory holds one chunk, whatever the archive's size).
        let mut result = Ok(());
        if src.kind().is_archive() {
            result = source::members_where(
                src,
                |name| Kind::of(name) == Kind::Sidecar,
                |m| {
                    match Sidecar::parse(&label(&m.name), &m.bytes) {
                        Ok(s) => {
                            sidecars.insert(stem(&m.name), s);
                        }
                        Err(e) => send(Work::Skipped(si, label(&m.name), e.to_string(), false))?,
                    }
                    Ok(())
                },
            );
        }
        let mut photos: Vec<Member> = Vec::new();
        let result = result.and_then(|()| {
            source::members_where(
                src,
                |name| Kind::of(name) != Kind::Sidecar,
                |m| {
                    match m.kind() {
                        Kind::Photo => {
                            photos.push(m);
                            if photos.len() == CHUNK_FRAMES {
                                let chunk = std::mem::take(&mut photos);
                                decode_photos(config, workers, si, src, chunk, &sidecars, &send)?;
                            }
                        }
                        Kind::Video => {
                            decode_video(config, si, src, &m, &label(&m.name), &send)?;
                        }
                        _ => send(Work::Skipped(
                            si,
                            label(&m.name),
                            "not a photo, video or sidecar".into(),
                            false,
                        ))?,
                    }
                    Ok(())
                },
            )
        });
        if let Err(e) = result {
            send(Work::Skipped(
                si,
                src.path.display().to_string(),
                e.to_string(),
                false,
            ))?;
        }
        for chunk in photos.chunks(CHUNK_FRAMES) {
            decode_photos(config, workers, si, src, chunk.to_vec(), &sidecars, &send)?;
        }
    }
    Ok(())
}

fn stem(name: &str) -> String {
    match name.rfind('.') {
        Some(i) => name[..i].to_string(),
        None => name.to_string(),
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn decode_photos(
    config: &Config,
    workers: &Workers,
    si: usize,
    src: &Source,
    members: Vec<Member>,
    sidecars: &HashMap<String, Sidecar>,
    send: &dyn Fn(Work) -> Result<()>,
) -> Result<()> {
    // Err: (label, reason, whether a flag could fix it).
    let decoded: Vec<std::result::Result<Frame, (String, String, bool)>> = workers.decoding(|| {
        members
            .into_par_iter()
            .map(|m| {
                let label = if src.kind().is_archive() {
                    format!("{}!{}", src.path.display(), m.name)
                } else {
                    src.path.display().to_string()
                };
                let sidecar = sidecars.get(&stem(&m.name));
                let planes = decode_bytes(std::path::Path::new(&label), &m.bytes)
                    .map_err(|e| (label.clone(), e.to_string(), false))?;
                let fixable = |e: Error| (label.clone(), e.to_string(), true);
                let camera = config
                    .rules
                    .camera(&src.path, &m.name, sidecar)
                    .map_err(fixable)?;
                let (ts, gps) = config
                    .rules
                    .photo_time(&label, &m.bytes, sidecar)
                    .map_err(fixable)?;
                Ok(Frame {
                    source: si,
                    member: m.name.clone(),
                    member_sha: sha_hex(&m.bytes),
                    frame: 0,
                    ts_us: ts,
                    place: config.rules.place(camera, ts, gps, sidecar),
                    planes,
                    video: false,
                })
            })
            .collect()
    });
    let mut frames = Vec::new();
    for d in decoded {
        match d {
            Ok(f) => frames.push(f),
            Err((what, why, fixable)) => send(Work::Skipped(si, what, why, fixable))?,
        }
    }
    if !frames.is_empty() {
        send(Work::Frames(frames))?;
    }
    Ok(())
}

fn decode_video(
    config: &Config,
    si: usize,
    src: &Source,
    m: &Member,
    label: &str,
    send: &dyn Fn(Work) -> Result<()>,
) -> Result<()> {
    let known = config
        .rules
        .camera(&src.path, &m.name, None)
        .and_then(|c| Ok((c, created_or(config, label, &m.bytes)?)));
    let (camera, start_us) = match known {
        Ok(k) => k,
        Err(e) => return send(Work::Skipped(si, label.to_string(), e.to_string(), true)),
    };
    let member_sha = sha_hex(&m.bytes);
    let mut chunk: Vec<Frame> = Vec::new();
    let result = video::decode_each(label, &m.bytes, config.fps, |index, offset, planes| {
        let ts = start_us + offset;
        chunk.push(Frame {
            source: si,
            member: m.name.clone(),
            member_sha: member_sha.clone(),
            frame: index,
            ts_us: ts,
            place: config.rules.place(camera.clone(), ts, None, None),
            planes,
            video: true,
        });
        if chunk.len() == CHUNK_FRAMES {
            send(Work::Frames(std::mem::take(&mut chunk)))?;
        }
        Ok(())
    });
    if !chunk.is_empty() {
        send(Work::Frames(chunk))?;
    }
    match result {
        Ok((_, bad)) if bad > 0 => send(Work::Skipped(
            si,
            label.to_string(),
            format!("{bad} video sample(s) did not decode; the other frames were read"),
            false,
        ))?,
        Ok(_) => {}
        Err(e) => send(Work::Skipped(si, label.to_string(), e.to_string(), false))?,
    }
    send(Work::EndOfMember(si, m.name.clone()))
}

/// The video's start: its MP4 creation time, else `--video-start`.
fn created_or(config: &Config, label: &str, bytes: &[u8]) -> Result<i64> {
    let size = bytes.len() as u64;
    let created = mp4::Mp4Reader::read_header(std::io::Cursor::new(bytes), size)
        .ok()
        .map(|r| r.moov.mvhd.creation_time)
        .filter(|&c| c > 2_082_844_800)
        .map(|c| ((c - 2_082_844_800) * 1_000_000) as i64);
    created
        .or(config.rules.video_start.map(|t| t.timestamp_micros()))
        .ok_or_else(|| Error::BadData {
            path: label.into(),
            message: "the video has no creation time: give --video-start".into(),
        })
}

#[allow(clippy::too_many_arguments)]
fn to_read(
    planned: &Planned,
    f: &Frame,
    frame: i64,
    ts_us: i64,
    index: usize,
    p: FoundPlate,
    pass_frames: Option<u32>,
    model: &str,
    batch: &str,
) -> (String, Read) {
    let mut h = Sha256::new();
    for part in [
        planned.sha.as_str(),
        f.member.as_str(),
        &frame.to_string(),
        &index.to_string(),
        model,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let source_file = if planned.source.kind().is_archive() {
        format!("{}!{}", planned.source.path.display(), f.member)
    } else {
        planned.source.path.display().to_string()
    };
    let read = Read {
        read_id: hex::encode(&h.finalize()[..16]),
        ts_micros: ts_us,
        camera_id: f.place.camera_id.clone(),
        lat: f.place.lat,
        lon: f.place.lon,
        heading: f.place.heading,
        plate: p.text,
        confidence: p.confidence,
        alternates: p.alternates,
        char_confidence: p.char_confidence,
        region: p.region,
        plate_box: Some(PlateBox {
            x: p.bbox.x as i32,
            y: p.bbox.y as i32,
            w: p.bbox.w as i32,
            h: p.bbox.h as i32,
        }),
        source_file,
        source_frame: frame,
        source_sha256: f.member_sha.clone(),
        model_version: model.to_string(),
        crop_jpeg: Some(p.crop_jpeg),
        batch_id: batch.to_string(),
        pass_frames: pass_frames.map(|n| n as i32),
    };
    (planned.sha.clone(), read)
}

/// Hot-list entries by plate: `(list, plate, reason, last valid day)`.
type HotIndex = HashMap<String, Vec<(String, String, Option<chrono::NaiveDate>)>>;

fn hotlist_index(store: &Store) -> Result<HotIndex> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Error::io("tokio", e))?;
    let batches = rt.block_on(async {
        let ctx = crate::query::session(store).await?;
        crate::query::run_sql(
            &ctx,
            "SELECT list, plate, reason, CAST(expires AS VARCHAR) AS expires FROM hotlist",
        )
        .await
    })?;
    let mut out: HotIndex = HashMap::new();
    for b in &batches {
        let col = |n| crate::audit::evidence::string_column(b, n);
        let (lists, plates, reasons, expires) =
            (col("list")?, col("plate")?, col("reason")?, col("expires")?);
        for i in 0..b.num_rows() {
            out.entry(plates[i].clone()).or_default().push((
                lists[i].clone(),
                reasons[i].clone(),
                expires[i].parse().ok(),
            ));
        }
    }
    Ok(out)
}

/// The alerts `reads` raise: a listed plate read as the best read, or as
/// an alternate at least [`alerts::ALTERNATE_MIN`] likely, while its entry
/// was valid.
fn hits_of(index: &HotIndex, reads: &[Read]) -> Vec<Alert> {
    let mut out = Vec::new();
    for r in reads {
        let day = crate::store::writer::utc_date(r.ts_micros);
        let alternates = r
            .alternates
            .iter()
            .filter(|(_, c)| *c >= alerts::ALTERNATE_MIN)
            .map(|(t, _)| t);
        for text in std::iter::once(&r.plate).chain(alternates) {
            let Some(entries) = index.get(text) else {
                continue;
            };
            for (list, reason, expires) in entries {
                if expires.is_some_and(|e| day > e) {
                    continue;
                }
                out.push(Alert {
                    id: 0,
                    read_id: r.read_id.clone(),
                    ts_us: r.ts_micros,
                    camera_id: r.camera_id.clone(),
                    read_plate: r.plate.clone(),
                    list: list.clone(),
                    listed_plate: text.clone(),
                    reason: reason.clone(),
                    status: "unverified".into(),
                });
            }
        }
    }
    out
}

/// Records a whole run (inputs, counts, start time) in the audit log; each
/// batch already has its own entry.
pub fn record_run(
    access: &Access,
    config: &Config,
    summary: &Summary,
    started: DateTime<Utc>,
) -> Result<()> {
    let detail = serde_json::json!({
        "inputs": config.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "sources": summary.sources, "already_done": summary.already_done,
        "batches": summary.batches, "frames": summary.frames, "reads": summary.reads,
        "alerts": summary.alerts, "skipped": summary.skipped.len(),
        "replaced_batches": summary.replaced_batches, "started": started.to_rfc3339(),
    });
    access.record(Action::Ingest, Outcome::Ok, detail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read on 2026-09-21.
    fn read(id: &str, plate: &str, alternates: &[(&str, f32)]) -> Read {
        Read {
            alternates: alternates.iter().map(|&(t, c)| (t.into(), c)).collect(),
            ..Read::for_test(id, 1_790_000_000_000_000, plate)
        }
    }

    #[test]
    fn a_listed_plate_alerts_as_the_read_or_as_a_likely_enough_alternate() {
        let mut index = HotIndex::new();
        index.insert(
            "8XYZ999".into(),
            vec![("stolen".into(), "stolen".into(), None)],
        );
        let expired = chrono::NaiveDate::from_ymd_opt(2026, 9, 1);
        index.insert(
            "5KLM246".into(),
            vec![("wanted".into(), "warrant".into(), expired)],
        );
        let reads = [
            read("exact", "8XYZ999", &[("8XYZ99", 0.1)]),
            read("likely", "BXYZ999", &[("8XYZ999", alerts::ALTERNATE_MIN)]),
            read(
                "unlikely",
                "8XY2999",
                &[("8XYZ999", alerts::ALTERNATE_MIN * 0.9)],
            ),
            read("expired", "SKLM246", &[("5KLM246", 0.3)]),
        ];
        let hits: Vec<(String, String, String)> = hits_of(&index, &reads)
            .into_iter()
            .map(|a| (a.read_id, a.read_plate, a.listed_plate))
            .collect();
        let want = [
            ("exact", "8XYZ999", "8XYZ999"),
            ("likely", "BXYZ999", "8XYZ999"),
        ];
        assert_eq!(
            hits,
            want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        );
    }
}
