//! `mandate-build-contracts`: compiles `contracts/` with foundry-compilers and the solcjs
//! wrapper, and writes the embedded artifact files of `mandate-contracts`: one per
//! `foundry.toml` profile (`default` → `artifacts.json`, `legacy-v2` →
//! `legacy-v2-artifacts.json`, `v08` → `v08-artifacts.json`); and extracts the account
//! families' creation code from `@rhinestone/modulekit`'s precompile sources in
//! `contracts/node_modules` into `modulekit-artifacts.json`.
//!
//! ```text
//! mandate-build-contracts            # rebuild the artifact files in crates/contracts/
//! mandate-build-contracts --check    # fail if a committed file is not what the sources give
//! ```

use std::{
    collections::BTreeMap,
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use alloy_primitives::hex;
use clap::Parser;
use foundry_compilers::{
    ConfigurableArtifacts, ProjectBuilder, ProjectPathsConfig,
    artifacts::{
        BytecodeHash, EvmVersion, Optimizer, Remapping, Settings, SettingsMetadata,
        output_selection::OutputSelection,
    },
    compilers::solc::{Solc, SolcCompiler, SolcLanguage, SolcSettings},
};
use mandate_contracts::{
    ArtifactFile, CompiledContract, CompilerInfo, PrecompiledContract, PrecompiledFile,
    names::modulekit as mk,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
// The library's dependency (for its ABI type): this binary reaches it through the library.
use alloy_json_abi as _;

/// One artifact file: the `foundry.toml` profile it is compiled with, where it is written and
/// the contracts from npm packages (not under the profile's `src`) that it keeps.
struct Target {
    profile: &'static str,
    artifact_path: &'static str,
    package_contracts: &'static [&'static str],
}

const TARGETS: &[Target] = &[
    Target {
        profile: "default",
        artifact_path: mandate_contracts::ARTIFACT_PATH,
        package_contracts: &["EntryPoint", "VerifyingPaymaster"],
    },
    Target {
        profile: "legacy-v2",
        artifact_path: mandate_contracts::LEGACY_V2_ARTIFACT_PATH,
        package_contracts: &[
            "EntryPoint",
            "SmartAccount",
            "SmartAccountFactory",
            "EcdsaOwnershipRegistryModule",
            "SessionKeyManager",
            "BatchedSessionRouter",
            "ERC20SessionValidationModule",
        ],
    },
    Target {
        profile: "v08",
        artifact_path: mandate_contracts::V08_ARTIFACT_PATH,
        package_contracts: &["EntryPoint"],
    },
];

/// The npm package the account families' creation code comes from, under `contracts/node_modules`.
const MODULEKIT_PACKAGE: &str = "@rhinestone/modulekit";
/// Where its precompile sources are, inside the package.
const MODULEKIT_PRECOMPILES: &str = "src/deployment/precompiles";

/// One precompiled contract taken from modulekit: its name, the file and constant holding its
/// creation code, what it is a build of, and the SPDX licence of its own sources (the package
/// itself is GPL-3.0; Safe's contracts are LGPL-3.0-only, Safe7579's GPL-3.0, the rest MIT).
struct Precompile {
    name: &'static str,
    file: &'static str,
    constant: &'static str,
    origin: &'static str,
    license: &'static str,
}

const fn precompile(
    name: &'static str,
    file: &'static str,
    constant: &'static str,
    origin: &'static str,
    license: &'static str,
) -> Precompile {
    Precompile { name, file, constant, origin, license }
}

const NEXUS: &str = "Biconomy Nexus (EIP-712 domain Nexus 1.0.1)";
const KERNEL: &str = "ZeroDev Kernel v3.1";
const SAFE: &str = "Safe 1.4.1 (recompiled)";
const SAFE7579: &str = "Rhinestone Safe7579 adapter v1.0";
const MSA: &str = "erc7579-implementation (MSAAdvanced)";

const MODULEKIT_CONTRACTS: &[Precompile] = &[
    precompile(mk::NEXUS, "NexusPrecompiles.sol", "NEXUS_BYTECODE", NEXUS, "MIT"),
    precompile(
        mk::NEXUS_ACCOUNT_FACTORY,
        "NexusPrecompiles.sol",
        "NEXUS_ACCOUNT_FACTORY_BYTECODE",
        NEXUS,
        "MIT",
    ),
    precompile(
        mk::NEXUS_BOOTSTRAP,
        "NexusPrecompiles.sol",
        "NEXUS_BOOTSTRAP_BYTECODE",
        NEXUS,
        "MIT",
    ),
    precompile(mk::NEXUS_PROXY, "NexusPrecompiles.sol", "NEXUS_PROXY_BYTECODE", NEXUS, "MIT"),
    precompile(mk::KERNEL, "KernelPrecompiles.sol", "KERNEL_BYTECODE", KERNEL, "MIT"),
    precompile(
        mk::KERNEL_FACTORY,
        "KernelPrecompiles.sol",
        "KERNEL_FACTORY_BYTECODE",
        KERNEL,
        "MIT",
    ),
    precompile(mk::SAFE7579, "Safe7579Precompiles.sol", "SAFE7579_BYTECODE", SAFE7579, "GPL-3.0"),
    precompile(
        mk::SAFE7579_LAUNCHPAD,
        "Safe7579Precompiles.sol",
        "SAFE7579_LAUNCHPAD_BYTECODE",
        SAFE7579,
        "GPL-3.0",
    ),
    precompile(
        mk::SAFE_SINGLETON,
        "Safe7579Precompiles.sol",
        "SAFE_SINGLETON_BYTECODE",
        SAFE,
        "LGPL-3.0-only",
    ),
    precompile(
        mk::SAFE_PROXY_FACTORY,
        "Safe7579Precompiles.sol",
        "SAFE_PROXY_FACTORY_BYTECODE",
        SAFE,
        "LGPL-3.0-only",
    ),
    precompile(
        mk::SAFE_PROXY,
        "Safe7579Precompiles.sol",
        "SAFE_PROXY_BYTECODE",
        SAFE,
        "LGPL-3.0-only",
    ),
    precompile(mk::MSA, "ERC7579Precompiles.sol", "ERC7579_BYTECODE", MSA, "MIT"),
    precompile(
        mk::MSA_BOOTSTRAP,
        "ERC7579Precompiles.sol",
        "ERC7579_BOOTSTRAP_BYTECODE",
        MSA,
        "MIT",
    ),
    precompile(mk::MSA_PROXY, "ERC7579Precompiles.sol", "MSAPROXY_BYTECODE", MSA, "MIT"),
];

#[derive(Parser)]
#[command(about = "Compile Mandate's contracts and write the embedded artifacts")]
struct Args {
    /// The repository root (where foundry.toml is); found from the current directory by default.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Compare with the committed artifacts instead of writing them.
    #[arg(long)]
    check: bool,
}

/// The part of `foundry.toml` the build reads.
#[derive(Deserialize)]
struct FoundryToml {
    profile: BTreeMap<String, Profile>,
}

#[derive(Deserialize)]
struct Profile {
    src: String,
    #[serde(default)]
    libs: Vec<String>,
    #[serde(default)]
    remappings: Vec<String>,
    solc: String,
    #[serde(default)]
    optimizer: bool,
    #[serde(default = "default_runs")]
    optimizer_runs: usize,
    #[serde(default)]
    via_ir: bool,
    evm_version: String,
    #[serde(default)]
    bytecode_hash: Option<String>,
    #[serde(default = "default_true")]
    cbor_metadata: bool,
}

const fn default_runs() -> usize {
    200
}

const fn default_true() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error("no foundry.toml found in {0} or any parent directory")]
    NoRoot(PathBuf),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("foundry.toml: {0}")]
    Config(String),
    #[error(
        "the solc wrapper {path} did not answer `--version` ({source}); run `npm ci` in contracts/"
    )]
    Solc { path: PathBuf, source: Box<foundry_compilers::error::SolcError> },
    #[error("foundry.toml pins solc {pinned} but the wrapper runs {found}")]
    SolcVersion { pinned: String, found: String },
    #[error("compiling: {0}")]
    Compile(Box<foundry_compilers::error::SolcError>),
    #[error("the compiler reported errors:\n{0}")]
    Diagnostics(String),
    #[error("{0}")]
    Artifact(#[from] mandate_contracts::ArtifactError),
    #[error("{path}: {reason}; run `npm ci` in contracts/")]
    Package { path: PathBuf, reason: String },
    #[error("{path}: constant {constant}: {reason}")]
    Precompile { path: PathBuf, constant: &'static str, reason: String },
    #[error(
        "{path} is stale: {detail}\nrun `cargo run -p mandate-contracts --features build --bin mandate-build-contracts` and commit the result"
    )]
    Stale { path: PathBuf, detail: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.to_path_buf(), source }
}

fn find_root(start: &Path) -> Result<PathBuf, BuildError> {
    start
        .ancestors()
        .find(|dir| dir.join("foundry.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| BuildError::NoRoot(start.to_path_buf()))
}

fn read_profile(root: &Path, name: &str) -> Result<Profile, BuildError> {
    let path = root.join("foundry.toml");
    let text = fs::read_to_string(&path).map_err(io_err(&path))?;
    let mut parsed: FoundryToml =
        toml::from_str(&text).map_err(|e| BuildError::Config(e.to_string()))?;
    parsed.profile.remove(name).ok_or_else(|| BuildError::Config(format!("no [profile.{name}]")))
}

/// The solcjs wrapper for `version`: `contracts/bin/solc-<version>` when there is one (a
/// second solcjs under an npm alias), else `contracts/bin/solc`.
fn wrapper_for(root: &Path, version: &str) -> PathBuf {
    let pinned = root.join(format!("contracts/bin/solc-{version}"));
    if pinned.is_file() { pinned } else { root.join("contracts/bin/solc") }
}

fn settings(profile: &Profile) -> Result<SolcSettings, BuildError> {
    let evm_version: EvmVersion = profile
        .evm_version
        .parse()
        .map_err(|e: String| BuildError::Config(format!("evm_version: {e}")))?;
    let bytecode_hash = match profile.bytecode_hash.as_deref() {
        None | Some("ipfs") => BytecodeHash::Ipfs,
        Some("none") => BytecodeHash::None,
        Some("bzzr1") => BytecodeHash::Bzzr1,
        Some(other) => return Err(BuildError::Config(format!("bytecode_hash: unknown {other:?}"))),
    };
    let mut settings = Settings::new(OutputSelection::complete_output_selection());
    settings.optimizer = Optimizer {
        enabled: Some(profile.optimizer),
        runs: Some(profile.optimizer_runs),
        details: None,
    };
    settings.evm_version = Some(evm_version);
    settings.via_ir = Some(profile.via_ir);
    settings.metadata = Some(SettingsMetadata::new(bytecode_hash, profile.cbor_metadata));
    Ok(SolcSettings { settings, ..Default::default() })
}

fn remappings(profile: &Profile) -> Result<Vec<Remapping>, BuildError> {
    profile
        .remappings
        .iter()
        .map(|r| r.parse().map_err(|e| BuildError::Config(format!("remapping {r:?}: {e}"))))
        .collect()
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

fn build(root: &Path, target: &Target) -> Result<ArtifactFile, BuildError> {
    let profile = read_profile(root, target.profile)?;
    let wrapper = wrapper_for(root, &profile.solc);
    let solc = Solc::new(&wrapper)
        .map_err(|source| BuildError::Solc { path: wrapper.clone(), source: Box::new(source) })?;
    let found = format!("{}.{}.{}", solc.version.major, solc.version.minor, solc.version.patch);
    if found != profile.solc {
        return Err(BuildError::SolcVersion { pinned: profile.solc, found });
    }
    let version = solc.version.to_string();

    let paths = ProjectPathsConfig::builder()
        .root(root)
        .sources(root.join(&profile.src))
        .libs(profile.libs.iter().map(|l| root.join(l)))
        .remappings(remappings(&profile)?)
        .build::<SolcLanguage>()
        .map_err(|e| BuildError::Config(e.to_string()))?;
    let settings = settings(&profile)?;
    let project = ProjectBuilder::<SolcCompiler, ConfigurableArtifacts>::new(Default::default())
        .paths(paths)
        .settings(settings.clone())
        .ephemeral()
        .no_artifacts()
        .single_solc_jobs()
        .build(SolcCompiler::Specific(solc))
        .map_err(|e| BuildError::Compile(Box::new(e)))?;

    let output = project.compile().map_err(|e| BuildError::Compile(Box::new(e)))?;
    if output.has_compiler_errors() {
        return Err(BuildError::Diagnostics(output.to_string()));
    }
    let sources_dir = root.join(&profile.src);
    let output = output.into_output();

    // Every source file the compiler saw, hashed with the settings: tells whether the
    // committed artifacts can still be what these inputs give.
    let mut hasher = Sha256::new();
    hasher.update(version.as_bytes());
    hasher.update(serde_json::to_vec(&settings.settings).unwrap_or_default());
    let mut source_paths: Vec<&PathBuf> = output.sources.sources().map(|(path, _)| path).collect();
    source_paths.sort();
    source_paths.dedup();
    for path in source_paths {
        let abs = if path.is_absolute() { path.clone() } else { root.join(path) };
        let content = fs::read(&abs).map_err(io_err(&abs))?;
        hasher.update(relative(root, &abs).as_bytes());
        hasher.update([0]);
        hasher.update(&content);
        hasher.update([0]);
    }
    let input_hash = hex::encode_prefixed(hasher.finalize());

    let mut contracts = BTreeMap::new();
    for (file, name, contract) in output.contracts.contracts_with_files() {
        let abs = if file.is_absolute() { file.clone() } else { root.join(file) };
        let ours = abs.starts_with(&sources_dir);
        if !ours && !target.package_contracts.contains(&name.as_str()) {
            continue;
        }
        let (Some(abi), Some(evm)) = (&contract.abi, &contract.evm) else { continue };
        let bytecode = evm.bytecode.as_ref().and_then(|b| b.object.as_bytes()).cloned();
        let deployed = evm
            .deployed_bytecode
            .as_ref()
            .and_then(|d| d.bytecode.as_ref())
            .and_then(|b| b.object.as_bytes())
            .cloned();
        let (Some(bytecode), Some(deployed)) = (bytecode, deployed) else { continue };
        if bytecode.is_empty() || is_library(&deployed) {
            // interfaces, abstract contracts and libraries are not deployed on their own
            continue;
        }
        contracts.insert(
            name.clone(),
            CompiledContract {
                source: relative(root, &abs),
                abi: abi.clone(),
                bytecode: bytecode.0.into(),
                deployed_bytecode: deployed.0.into(),
            },
        );
    }
    Ok(ArtifactFile {
        compiler: CompilerInfo {
            version,
            optimizer: profile.optimizer,
            optimizer_runs: profile.optimizer_runs,
            via_ir: profile.via_ir,
            evm_version: profile.evm_version,
            bytecode_hash: profile.bytecode_hash.unwrap_or_else(|| "ipfs".into()),
        },
        input_hash,
        contracts,
    })
}

/// A library's runtime code starts with its call guard: `PUSH20 <own address> ADDRESS EQ`,
/// with the address left zero at compile time.
fn is_library(runtime: &[u8]) -> bool {
    runtime.len() >= 23
        && runtime[0] == 0x73
        && runtime[1..21].iter().all(|b| *b == 0)
        && runtime[21..23] == [0x30, 0x14]
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees
/// half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

fn first_difference(committed: &ArtifactFile, fresh: &ArtifactFile) -> String {
    if committed.compiler != fresh.compiler {
        return "the compiler settings differ".into();
    }
    for (name, contract) in &fresh.contracts {
        match committed.contracts.get(name) {
            None => return format!("{name} is missing"),
            Some(old) if old != contract => return format!("{name} differs"),
            Some(_) => {}
        }
    }
    if let Some(name) = committed.contracts.keys().find(|n| !fresh.contracts.contains_key(*n)) {
        return format!("{name} is no longer built");
    }
    "the input hash differs".into()
}

/// The part of an npm `package.json` the build reads.
#[derive(Deserialize)]
struct PackageJson {
    version: String,
    license: String,
}

/// The hex literal assigned to `constant` in `source`: `bytes public constant NAME = hex"…";`.
fn hex_constant(source: &str, constant: &str) -> Result<Vec<u8>, String> {
    let declaration = format!("bytes public constant {constant} =");
    let mut found = source.match_indices(&declaration);
    let (at, _) = found.next().ok_or("not declared")?;
    if found.next().is_some() {
        return Err("declared twice".into());
    }
    let rest = source[at + declaration.len()..].trim_start();
    let rest = rest.strip_prefix("hex\"").ok_or("not a hex\"…\" literal")?;
    let end = rest.find('"').ok_or("unterminated literal")?;
    if !rest[end + 1..].trim_start().starts_with(';') {
        return Err("the literal is not the whole value".into());
    }
    let code = hex::decode(&rest[..end]).map_err(|e| format!("bad hex: {e}"))?;
    if code.is_empty() {
        return Err("empty".into());
    }
    Ok(code)
}

/// Reads the families' creation code out of modulekit's precompile sources.
fn extract_modulekit(root: &Path) -> Result<PrecompiledFile, BuildError> {
    let package_dir = root.join("contracts/node_modules").join(MODULEKIT_PACKAGE);
    let manifest_path = package_dir.join("package.json");
    let manifest = fs::read_to_string(&manifest_path).map_err(io_err(&manifest_path))?;
    let manifest: PackageJson = serde_json::from_str(&manifest)
        .map_err(|e| BuildError::Package { path: manifest_path.clone(), reason: e.to_string() })?;
    let mut sources = BTreeMap::new();
    let mut contracts = BTreeMap::new();
    for entry in MODULEKIT_CONTRACTS {
        let file = format!("{MODULEKIT_PRECOMPILES}/{}", entry.file);
        let path = package_dir.join(&file);
        if !sources.contains_key(entry.file) {
            let text = fs::read_to_string(&path).map_err(io_err(&path))?;
            sources.insert(entry.file, text);
        }
        let code = hex_constant(&sources[entry.file], entry.constant).map_err(|reason| {
            BuildError::Precompile { path: path.clone(), constant: entry.constant, reason }
        })?;
        contracts.insert(
            entry.name.to_string(),
            PrecompiledContract {
                package: MODULEKIT_PACKAGE.into(),
                version: manifest.version.clone(),
                file,
                constant: entry.constant.into(),
                origin: entry.origin.into(),
                license: entry.license.into(),
                bytecode: code.into(),
            },
        );
    }
    Ok(PrecompiledFile { package_license: manifest.license, contracts })
}

fn modulekit_target(root: &Path, check: bool) -> Result<(), BuildError> {
    let fresh = extract_modulekit(root)?;
    let path = root.join(mandate_contracts::MODULEKIT_ARTIFACT_PATH);
    let json = fresh.to_json()?;
    if check {
        let committed = fs::read_to_string(&path).map_err(io_err(&path))?;
        if committed != json {
            let detail = match PrecompiledFile::from_json(&committed) {
                Err(e) => e.to_string(),
                Ok(old) => fresh
                    .contracts
                    .iter()
                    .find(|(name, c)| old.contracts.get(*name) != Some(c))
                    .map_or_else(
                        || "the file differs".into(),
                        |(name, _)| format!("{name} differs"),
                    ),
            };
            return Err(BuildError::Stale { path, detail });
        }
        println!(
            "{} is fresh ({} contracts)",
            mandate_contracts::MODULEKIT_ARTIFACT_PATH,
            fresh.contracts.len()
        );
    } else {
        write_atomic(&path, json.as_bytes())?;
        println!("wrote {} ({} contracts)", path.display(), fresh.contracts.len());
    }
    for (name, contract) in &fresh.contracts {
        println!("  {name:<28} creation {:>6} bytes", contract.bytecode.len());
    }
    Ok(())
}

fn run(args: Args) -> Result<(), BuildError> {
    let cwd = std::env::current_dir().map_err(io_err(Path::new(".")))?;
    let root = match args.root {
        Some(root) => root,
        None => find_root(&cwd)?,
    };
    modulekit_target(&root, args.check)?;
    for target in TARGETS {
        build_target(&root, target, args.check)?;
    }
    Ok(())
}

fn build_target(root: &Path, target: &Target, check: bool) -> Result<(), BuildError> {
    let started = Instant::now();
    let fresh = build(root, target)?;
    let elapsed = started.elapsed();
    let path = root.join(target.artifact_path);
    let json = fresh.to_json()?;
    if check {
        let committed_text = fs::read_to_string(&path).map_err(io_err(&path))?;
        let committed = ArtifactFile::from_json(&committed_text)?;
        if committed != fresh || committed_text != json {
            return Err(BuildError::Stale { path, detail: first_difference(&committed, &fresh) });
        }
        println!(
            "{} is fresh ({} contracts, compiled in {elapsed:.2?})",
            target.artifact_path,
            fresh.contracts.len()
        );
    } else {
        write_atomic(&path, json.as_bytes())?;
        println!(
            "wrote {} ({} contracts, compiled in {elapsed:.2?})",
            path.display(),
            fresh.contracts.len()
        );
    }
    for (name, contract) in &fresh.contracts {
        println!("  {name:<28} runtime {:>6} bytes", contract.deployed_bytecode.len());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mandate-build-contracts: {err}");
            ExitCode::FAILURE
        }
    }
}
