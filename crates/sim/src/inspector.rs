//! The pre-flight inspector: follows `handleOps` through its phases (deployment, account and
//! paymaster validation, execution), measures each phase's gas, keeps the call path to a
//! revert, and checks the validation phases against the ERC-7562 rules bundlers apply.

use alloy_primitives::{Address, B256, Bytes, Selector, U256};
use revm::{
    Inspector,
    bytecode::opcode,
    context::{ContextSetters, ContextTr, FrameStack},
    handler::{
        EthFrame, EthPrecompiles, EvmTr, FrameInitOrResult, ItemOrResult, MainnetEvm,
        evm::{ContextDbError, FrameInitResult, FrameTr},
        instructions::{EthInstructions, InstructionProvider},
    },
    inspector::{InspectorEvmTr, JournalExt, handler::frame_end},
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, Host, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{InputsTr, Jumps, LoopControl, MemoryTr},
    },
};

/// The parts of a user operation's life in `handleOps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Phase {
    /// The factory deploying the account (`initCode`).
    Deployment,
    /// The account's `validateUserOp` (with the modules it calls).
    AccountValidation,
    /// The paymaster's `validatePaymasterUserOp`.
    PaymasterValidation,
    /// `innerHandleOp`: the account's execution and the paymaster's `postOp`.
    Execution,
}

impl Phase {
    const fn is_validation(self) -> bool {
        !matches!(self, Self::Execution)
    }
}

/// One call on the way to a revert.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Frame {
    /// The contract called.
    pub address: Address,
    /// The function selector, if the call had one.
    pub selector: Option<Selector>,
    /// `Contract.function`, where the simulator knows them.
    pub label: Option<String>,
}

/// A way in which an op's validation breaks an ERC-7562 rule: a real bundler would drop it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RuleViolation {
    /// A banned opcode ran in a validation phase (OP-011 ff.).
    BannedOpcode {
        /// The phase.
        phase: Phase,
        /// The contract whose code ran it.
        address: Address,
        /// The opcode's name.
        opcode: &'static str,
    },
    /// Storage that is neither the sender's nor associated with it (STO-010 ff.).
    UnassociatedStorage {
        /// The phase.
        phase: Phase,
        /// Whose storage.
        address: Address,
        /// The slot.
        slot: U256,
        /// Whether it was written.
        write: bool,
    },
    /// An unstaked factory or paymaster used its own storage; bundlers require it to be staked.
    EntityStorage {
        /// The phase.
        phase: Phase,
        /// The entity.
        entity: Address,
    },
    /// A paymaster or factory is an EOA with an EIP-7702 delegation: only an op's sender may
    /// be one (ERC-7562's AUTH rules).
    DelegatedEntity {
        /// The paymaster or factory.
        entity: Address,
        /// Its delegate.
        delegate: Address,
    },
    /// The op carries an EIP-7702 authorization its sender already holds: sent again for
    /// nothing, it costs the bundle the authorization's gas (ERC-7562's AUTH rules: one
    /// authorization, with the op that needs it).
    AuthorizationResent {
        /// The sender.
        sender: Address,
        /// The delegate it already has.
        delegate: Address,
    },
}

/// What the inspector learned from one `handleOps` run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observations {
    pub(crate) gas: Vec<(Phase, u64)>,
    pub(crate) account_validation_data: Option<U256>,
    pub(crate) paymaster_validation_data: Option<U256>,
    pub(crate) revert_path: Vec<Frame>,
    pub(crate) execution_revert_path: Vec<Frame>,
    pub(crate) violations: Vec<RuleViolation>,
}

/// Selectors the inspector recognises, computed from the v0.7 signatures.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryPointSelectors {
    pub(crate) validate_user_op: Selector,
    pub(crate) validate_paymaster_user_op: Selector,
    pub(crate) create_sender: Selector,
    pub(crate) inner_handle_op: Selector,
}

#[derive(Debug)]
struct OpenFrame {
    frame: Frame,
    phase: Option<Phase>,
}

/// The inspector; see the module docs.
#[derive(Debug)]
pub(crate) struct PreflightInspector {
    entry_point: Address,
    sender: Address,
    paymaster: Option<Address>,
    factory: Option<Address>,
    selectors: EntryPointSelectors,
    stack: Vec<OpenFrame>,
    /// The phase of the innermost frame that has one (kept up to date by the frame hooks: the
    /// per-opcode ones read it).
    current: Option<Phase>,
    /// Hashes whose preimage starts with the sender's address: slots from there on (up to 128)
    /// are associated with it.
    associated: Vec<U256>,
    /// What the opcode just run left for the next one to settle.
    pending: Pending,
    caught: bool,
    pub(crate) seen: Observations,
}

impl PreflightInspector {
    pub(crate) fn new(
        entry_point: Address,
        sender: Address,
        paymaster: Option<Address>,
        factory: Option<Address>,
        selectors: EntryPointSelectors,
    ) -> Self {
        Self {
            entry_point,
            sender,
            paymaster,
            factory,
            selectors,
            stack: Vec::new(),
            current: None,
            associated: Vec::new(),
            pending: Pending::Nothing,
            caught: false,
            seen: Observations::default(),
        }
    }

    fn phase(&self) -> Option<Phase> {
        self.current
    }

    /// Whether the frame about to run is in a validation phase, the only place where
    /// [`Inspector::step`] does anything. Outside one, `step` only forgets a pending `GAS`: done
    /// here when the frame runs without per-opcode hooks (see [`GatedEvm`]).
    fn wants_steps(&mut self) -> bool {
        let wants = self.phase().is_some_and(Phase::is_validation);
        if !wants && self.pending == Pending::AfterGas {
            self.pending = Pending::Nothing;
        }
        wants
    }

    /// The phase a call from the EntryPoint's own code starts, if any.
    fn phase_of(
        &self,
        caller: Address,
        target: Address,
        selector: Option<Selector>,
    ) -> Option<Phase> {
        if caller != self.entry_point || self.phase().is_some() {
            return None;
        }
        let s = selector?;
        if target == self.sender && s == self.selectors.validate_user_op {
            Some(Phase::AccountValidation)
        } else if Some(target) == self.paymaster && s == self.selectors.validate_paymaster_user_op {
            Some(Phase::PaymasterValidation)
        } else if s == self.selectors.create_sender {
            Some(Phase::Deployment)
        } else if target == self.entry_point && s == self.selectors.inner_handle_op {
            Some(Phase::Execution)
        } else {
            None
        }
    }

    fn path(&self) -> Vec<Frame> {
        self.stack.iter().map(|f| f.frame.clone()).collect()
    }

    fn open(&mut self, caller: Address, target: Address, selector: Option<Selector>) {
        let phase = self.phase_of(caller, target, selector);
        if phase.is_some() {
            self.current = phase;
        }
        self.stack
            .push(OpenFrame { frame: Frame { address: target, selector, label: None }, phase });
    }

    /// Whether the path to the innermost open frame is where the revert path starts.
    fn on_revert_path(&self) -> bool {
        let path = &self.seen.revert_path;
        path.len() >= self.stack.len()
            && path.iter().zip(&self.stack).all(|(seen, open)| *seen == open.frame)
    }

    fn close(&mut self, reverted: bool, gas_spent: u64, output: &Bytes) {
        if reverted {
            // Keep the deepest frame of a chain of reverts: where the failure started.
            let deeper = self.seen.revert_path.len() > self.stack.len()
                && self.on_revert_path()
                && !self.caught;
            if !deeper {
                self.seen.revert_path = self.path();
            }
            self.caught = false;
        }
        let caught_here = !reverted && !self.seen.revert_path.is_empty() && self.on_revert_path();
        let Some(frame) = self.stack.pop() else { return };
        if frame.phase.is_some() {
            self.current = self.stack.iter().rev().find_map(|f| f.phase);
        }
        if caught_here {
            // A frame that succeeded caught the revert below it.
            if self.phase() == Some(Phase::Execution) || frame.phase == Some(Phase::Execution) {
                self.seen.execution_revert_path = std::mem::take(&mut self.seen.revert_path);
            }
            self.caught = true;
        }
        if let Some(phase) = frame.phase {
            self.seen.gas.push((phase, gas_spent));
            if !reverted && output.len() >= 32 {
                match phase {
                    Phase::AccountValidation => {
                        self.seen.account_validation_data =
                            Some(U256::from_be_slice(&output[..32]));
                    }
                    Phase::PaymasterValidation if output.len() >= 64 => {
                        // (bytes context, uint256 validationData): the second head word.
                        self.seen.paymaster_validation_data =
                            Some(U256::from_be_slice(&output[32..64]));
                    }
                    _ => {}
                }
            }
        }
    }

    fn violation(&mut self, violation: RuleViolation) {
        if !self.seen.violations.contains(&violation) {
            self.seen.violations.push(violation);
        }
    }

    fn check_storage(&mut self, phase: Phase, address: Address, slot: U256, write: bool) {
        if address == self.sender || address == self.entry_point {
            return;
        }
        let associated =
            self.associated.iter().any(|base| slot >= *base && slot - *base <= U256::from(128));
        if associated {
            return;
        }
        let entity = match phase {
            Phase::PaymasterValidation => self.paymaster,
            Phase::Deployment => self.factory,
            _ => None,
        };
        if entity == Some(address) {
            self.violation(RuleViolation::EntityStorage { phase, entity: address });
        } else {
            self.violation(RuleViolation::UnassociatedStorage { phase, address, slot, write });
        }
    }
}

fn banned(op: u8, phase: Phase) -> Option<&'static str> {
    Some(match op {
        opcode::GASPRICE => "GASPRICE",
        opcode::GASLIMIT => "GASLIMIT",
        opcode::DIFFICULTY => "PREVRANDAO",
        opcode::TIMESTAMP => "TIMESTAMP",
        opcode::BASEFEE => "BASEFEE",
        opcode::BLOCKHASH => "BLOCKHASH",
        opcode::NUMBER => "NUMBER",
        opcode::SELFBALANCE => "SELFBALANCE",
        opcode::BALANCE => "BALANCE",
        opcode::ORIGIN => "ORIGIN",
        opcode::COINBASE => "COINBASE",
        opcode::SELFDESTRUCT => "SELFDESTRUCT",
        opcode::BLOBHASH => "BLOBHASH",
        opcode::BLOBBASEFEE => "BLOBBASEFEE",
        opcode::INVALID => "INVALID",
        opcode::CREATE => "CREATE",
        opcode::CREATE2 if phase != Phase::Deployment => "CREATE2",
        _ => return None,
    })
}

/// Opcodes whose `step` may do something besides clearing the flag set after `GAS`: the ones
/// the rules look at, and every opcode [`banned`] names in some phase.
static WATCHED: [bool; 256] = {
    let mut watched = [false; 256];
    let mut op = 0;
    while op < 256 {
        watched[op] = matches!(
            op as u8,
            opcode::GAS
                | opcode::SLOAD
                | opcode::SSTORE
                | opcode::KECCAK256
                | opcode::GASPRICE
                | opcode::GASLIMIT
                | opcode::DIFFICULTY
                | opcode::TIMESTAMP
                | opcode::BASEFEE
                | opcode::BLOCKHASH
                | opcode::NUMBER
                | opcode::SELFBALANCE
                | opcode::BALANCE
                | opcode::ORIGIN
                | opcode::COINBASE
                | opcode::SELFDESTRUCT
                | opcode::BLOBHASH
                | opcode::BLOBBASEFEE
                | opcode::INVALID
                | opcode::CREATE
                | opcode::CREATE2
        );
        op += 1;
    }
    watched
};

const fn is_call(op: u8) -> bool {
    matches!(op, opcode::CALL | opcode::CALLCODE | opcode::DELEGATECALL | opcode::STATICCALL)
}

/// What an opcode leaves for the one after it: the rules look at a `GAS` together with the
/// opcode that follows it, and at the hash a `KECCAK256` of the sender's address leaves on the
/// stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// A `GAS` ran: anything but a call next breaks OP-012.
    AfterGas,
    /// A `KECCAK256` over a preimage starting with the sender ran: its result is associated.
    SenderHash,
}

impl PreflightInspector {
    /// Before each opcode of a frame in a validation phase: what the previous opcode left (see
    /// [`Pending`]), then the ERC-7562 opcode and storage rules. The one per-opcode hook of the
    /// gated loop.
    #[inline(always)]
    fn before_opcode(&mut self, interp: &Interpreter<EthInterpreter>) {
        // Most opcodes: nothing pending and nothing to look at, in any phase.
        let op = interp.bytecode.opcode();
        if self.pending != Pending::Nothing || WATCHED[usize::from(op)] {
            self.watched_opcode(interp, op);
        }
    }

    /// After a `KECCAK256`, its result: done by the next [`Self::before_opcode`] in the gated
    /// loop, here at the end of a frame's run (and as `step_end` in revm's own loop).
    #[inline(always)]
    fn settle(&mut self, interp: &Interpreter<EthInterpreter>) {
        if self.pending == Pending::SenderHash {
            self.pending = Pending::Nothing;
            if let Some(hash) = interp.stack.data().last() {
                self.associated.push(*hash);
            }
        }
    }

    #[inline(never)]
    fn watched_opcode(&mut self, interp: &Interpreter<EthInterpreter>, op: u8) {
        self.settle(interp);
        let Some(phase) = self.phase().filter(|p| p.is_validation()) else {
            self.pending = Pending::Nothing;
            return;
        };
        let address = interp.input.target_address();
        if address == self.entry_point {
            return;
        }
        if std::mem::replace(&mut self.pending, Pending::Nothing) == Pending::AfterGas
            && !is_call(op)
        {
            self.violation(RuleViolation::BannedOpcode { phase, address, opcode: "GAS" });
        }
        match op {
            opcode::GAS => self.pending = Pending::AfterGas,
            opcode::SLOAD | opcode::SSTORE => {
                if let Some(slot) = interp.stack.data().last().copied() {
                    self.check_storage(phase, address, slot, op == opcode::SSTORE);
                }
            }
            opcode::KECCAK256 => {
                let data = interp.stack.data();
                let (Some(offset), Some(len)) =
                    (data.last(), data.len().checked_sub(2).map(|i| data[i]))
                else {
                    return;
                };
                let starts_with_sender = len >= U256::from(32)
                    && usize::try_from(*offset).ok().is_some_and(|off| {
                        off.checked_add(32).is_some_and(|end| end <= interp.memory.size())
                            && interp.memory.slice_len(off, 32)[..]
                                == B256::left_padding_from(self.sender.as_slice())[..]
                    });
                if starts_with_sender {
                    self.pending = Pending::SenderHash;
                }
            }
            _ => {
                if let Some(name) = banned(op, phase) {
                    self.violation(RuleViolation::BannedOpcode { phase, address, opcode: name });
                }
            }
        }
    }
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for PreflightInspector {
    #[inline]
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        self.before_opcode(interp);
    }

    #[inline]
    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        self.settle(interp);
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        // The selector alone, read in place: call data is not copied.
        let selector = {
            let input = inputs.input.as_bytes(context);
            (input.len() >= 4).then(|| Selector::from_slice(&input[..4]))
        };
        self.open(inputs.caller, inputs.target_address, selector);
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        let result = &outcome.result;
        self.close(!result.is_ok(), result.gas.total_gas_spent(), &result.output);
    }

    fn create(&mut self, _context: &mut CTX, _inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        // The address is known once the creation ends.
        self.stack.push(OpenFrame {
            frame: Frame { address: Address::ZERO, selector: None, label: None },
            phase: None,
        });
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        if let (Some(open), Some(address)) = (self.stack.last_mut(), outcome.address) {
            open.frame.address = address;
        }
        let result = &outcome.result;
        self.close(!result.is_ok(), result.gas.total_gas_spent(), &result.output);
    }
}

/// The mainnet EVM with the [`PreflightInspector`], where only frames in a validation phase run
/// the instruction loop with per-opcode hooks ([`Inspector::step`] and `step_end`); the others
/// (the EntryPoint's own code and the execution phase) run revm's plain loop. Frame hooks
/// (`call`, `call_end`, `create`, `create_end`) run for every frame, as in revm's inspection,
/// so the inspector sees the same calls and phases and reaches the same observations as with
/// per-opcode hooks everywhere: its `step` does nothing outside validation but clear a flag,
/// which [`PreflightInspector::wants_steps`] clears instead. With `gated` false, every frame
/// runs revm's own inspection loop (the reference the tests compare with).
pub(crate) struct GatedEvm<CTX: ContextTr + Host> {
    pub(crate) evm: MainnetEvm<CTX, PreflightInspector>,
    pub(crate) gated: bool,
}

type Instructions<CTX> = EthInstructions<EthInterpreter, CTX>;

impl<CTX: ContextTr + Host> EvmTr for GatedEvm<CTX> {
    type Context = CTX;
    type Instructions = Instructions<CTX>;
    type Precompiles = EthPrecompiles;
    type Frame = EthFrame<EthInterpreter>;

    #[inline]
    fn all(
        &self,
    ) -> (&CTX, &Instructions<CTX>, &EthPrecompiles, &FrameStack<EthFrame<EthInterpreter>>) {
        self.evm.all()
    }

    #[inline]
    fn all_mut(
        &mut self,
    ) -> (
        &mut CTX,
        &mut Instructions<CTX>,
        &mut EthPrecompiles,
        &mut FrameStack<EthFrame<EthInterpreter>>,
    ) {
        self.evm.all_mut()
    }

    #[inline]
    fn frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<CTX>> {
        self.evm.frame_init(frame_input)
    }

    #[inline]
    fn frame_run(&mut self) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<CTX>> {
        self.evm.frame_run()
    }

    #[inline]
    fn frame_return_result(
        &mut self,
        result: <Self::Frame as FrameTr>::FrameResult,
    ) -> Result<Option<<Self::Frame as FrameTr>::FrameResult>, ContextDbError<CTX>> {
        self.evm.frame_return_result(result)
    }
}

impl<CTX> InspectorEvmTr for GatedEvm<CTX>
where
    CTX: ContextTr<Journal: JournalExt> + ContextSetters + Host,
{
    type Inspector = PreflightInspector;

    #[inline]
    fn all_inspector(
        &self,
    ) -> (
        &CTX,
        &Instructions<CTX>,
        &EthPrecompiles,
        &FrameStack<EthFrame<EthInterpreter>>,
        &PreflightInspector,
    ) {
        self.evm.all_inspector()
    }

    #[inline]
    fn all_mut_inspector(
        &mut self,
    ) -> (
        &mut CTX,
        &mut Instructions<CTX>,
        &mut EthPrecompiles,
        &mut FrameStack<EthFrame<EthInterpreter>>,
        &mut PreflightInspector,
    ) {
        self.evm.all_mut_inspector()
    }

    fn inspect_frame_run(&mut self) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<CTX>> {
        if !self.gated {
            return self.evm.inspect_frame_run();
        }
        let mut result = if self.evm.inspector.wants_steps() {
            // As revm's `inspect_instructions`, calling the inspector's opcode hooks directly
            // and without its journal bookkeeping for the `log` and `selfdestruct` hooks, which
            // this inspector does not use.
            let (ctx, inspector, frame, instructions) = self.evm.ctx_inspector_frame_instructions();
            let interp = &mut frame.interpreter;
            let (table, gas_table) = (instructions.instruction_table(), instructions.gas_table());
            loop {
                inspector.before_opcode(interp);
                if interp.bytecode.is_end() {
                    break;
                }
                if let Err(e) = interp.step(table, gas_table, ctx)
                    && interp.bytecode.action().is_none()
                {
                    interp.halt(e);
                }
                if interp.bytecode.is_end() {
                    break;
                }
            }
            inspector.settle(interp);
            let action = interp.take_next_action();
            frame.process_next_action(ctx, action).inspect(|next| {
                if next.is_result() {
                    frame.set_finished(true);
                }
            })
        } else {
            // The plain instruction loop (which marks a finished frame itself).
            self.evm.frame_run()
        };
        if let Ok(ItemOrResult::Result(frame_result)) = &mut result {
            let (ctx, inspector, frame) = self.evm.ctx_inspector_frame();
            frame_end(ctx, inspector, &frame.input, frame_result);
        }
        result
    }
}
