//! The pre-flight inspector: follows `handleOps` through its phases (deployment, account and
//! paymaster validation, execution), measures each phase's gas, keeps the call path to a
//! revert, and checks the validation phases against the ERC-7562 rules bundlers apply.

use alloy_primitives::{Address, B256, Bytes, Selector, U256};
use revm::{
    Inspector,
    bytecode::opcode,
    context::ContextTr,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{InputsTr, Jumps, MemoryTr},
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
    /// The phase of the innermost frame that has one (kept up to date: `step` runs per opcode).
    current: Option<Phase>,
    /// Hashes whose preimage starts with the sender's address: slots from there on (up to 128)
    /// are associated with it.
    associated: Vec<U256>,
    pending_keccak: Option<bool>,
    after_gas: bool,
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
            pending_keccak: None,
            after_gas: false,
            caught: false,
            seen: Observations::default(),
        }
    }

    fn phase(&self) -> Option<Phase> {
        self.current
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

    fn open(&mut self, caller: Address, target: Address, input: &[u8]) {
        let selector = (input.len() >= 4).then(|| Selector::from_slice(&input[..4]));
        let phase = self.phase_of(caller, target, selector);
        if phase.is_some() {
            self.current = phase;
        }
        self.stack
            .push(OpenFrame { frame: Frame { address: target, selector, label: None }, phase });
    }

    fn close(&mut self, reverted: bool, gas_spent: u64, output: &Bytes) {
        let path = self.path();
        let Some(frame) = self.stack.pop() else { return };
        if frame.phase.is_some() {
            self.current = self.stack.iter().rev().find_map(|f| f.phase);
        }
        if reverted {
            // Keep the deepest frame of a chain of reverts: where the failure started.
            let deeper = self.seen.revert_path.len() > path.len()
                && self.seen.revert_path.starts_with(&path)
                && !self.caught;
            if !deeper {
                self.seen.revert_path = path;
            }
            self.caught = false;
        } else if !self.seen.revert_path.is_empty() && self.seen.revert_path.starts_with(&path) {
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

const fn is_call(op: u8) -> bool {
    matches!(op, opcode::CALL | opcode::CALLCODE | opcode::DELEGATECALL | opcode::STATICCALL)
}

impl<CTX: ContextTr> Inspector<CTX, EthInterpreter> for PreflightInspector {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        let Some(phase) = self.phase().filter(|p| p.is_validation()) else {
            self.after_gas = false;
            return;
        };
        let address = interp.input.target_address();
        if address == self.entry_point {
            return;
        }
        let op = interp.bytecode.opcode();
        if std::mem::take(&mut self.after_gas) && !is_call(op) {
            self.violation(RuleViolation::BannedOpcode { phase, address, opcode: "GAS" });
        }
        match op {
            opcode::GAS => self.after_gas = true,
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
                self.pending_keccak = Some(starts_with_sender);
            }
            _ => {
                if let Some(name) = banned(op, phase) {
                    self.violation(RuleViolation::BannedOpcode { phase, address, opcode: name });
                }
            }
        }
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if let Some(true) = self.pending_keccak.take()
            && let Some(hash) = interp.stack.data().last()
        {
            self.associated.push(*hash);
        }
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        let input = inputs.input.bytes(context);
        self.open(inputs.caller, inputs.target_address, &input);
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
