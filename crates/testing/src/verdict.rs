//! Assertions on the EntryPoint's verdicts and the arguments of SmartSession's custom errors.

use alloy_primitives::{Address, B256, hex};
use mandate_abi::{AccountType, PermissionId};
use mandate_sim::{BundleOutcome, OpReceipt};

/// The receipt of an op that was included and whose execution succeeded.
pub fn included(outcome: &BundleOutcome) -> &OpReceipt {
    let receipt = outcome.receipt().unwrap_or_else(|| panic!("not included: {outcome:?}"));
    assert!(receipt.success, "execution reverted: {:?}", receipt.revert_reason);
    receipt
}

/// Asserts the op was rejected in validation (AA23) with exactly the custom error `name(args)`.
pub fn assert_rejected(outcome: &BundleOutcome, name: &str, args: &[String]) {
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
    let inner = rejection.inner.as_ref().unwrap_or_else(|| panic!("no inner revert: {rejection}"));
    assert_eq!(inner.name.as_deref(), Some(name), "got {inner}");
    assert_eq!(inner.args, args, "got {inner}");
}

/// Safe7579's `ExecutionFailed()`.
pub const SAFE7579_EXECUTION_FAILED: [u8; 4] = hex!("acfdb444");

/// [`assert_rejected`] on an account of `account_type`: SmartSession's custom error
/// `name(args)` as that family's account reports it to the EntryPoint. Safe7579 calls
/// SmartSession through the Safe (`execTransactionFromModuleReturnData`), which drops a
/// revert's data; the adapter then reverts with its own `ExecutionFailed()`, so on Safe the
/// op must be rejected in validation (AA23) with exactly that. The other families bubble
/// SmartSession's revert up unchanged.
pub fn assert_rejected_on(
    account_type: AccountType,
    outcome: &BundleOutcome,
    name: &str,
    args: &[String],
) {
    if account_type != AccountType::Safe {
        return assert_rejected(outcome, name, args);
    }
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
    let inner = rejection.inner.as_ref().unwrap_or_else(|| panic!("no inner revert: {rejection}"));
    assert_eq!(inner.data.as_ref(), SAFE7579_EXECUTION_FAILED, "{name} on Safe7579: got {inner}");
}

/// Asserts the op was rejected with `code` (e.g. AA22, AA24) and no inner revert.
pub fn assert_rejected_code(outcome: &BundleOutcome, code: &str) {
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some(code), "{rejection}");
}

/// `PolicyViolation(permissionId, policy)` arguments.
pub fn violation(permission_id: PermissionId, policy: Address) -> Vec<String> {
    vec![permission_id.0.to_string(), policy.to_checksum(None)]
}

/// The `PolicyCheckReverted` argument for a policy revert with `data`: its first 32 bytes.
pub fn first_word(data: &[u8]) -> Vec<String> {
    let mut word = [0u8; 32];
    let n = data.len().min(32);
    word[..n].copy_from_slice(&data[..n]);
    vec![B256::from(word).to_string()]
}

/// An address as the decoded errors write it (checksummed).
pub fn addr(a: Address) -> String {
    a.to_checksum(None)
}
