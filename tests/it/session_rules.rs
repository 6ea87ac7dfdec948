//! SmartSession's own rules in USE mode: what an execution may target, which call and exec
//! types pass, module management through a session, sessions calling SmartSession, the
//! paymaster opt-in with the genesis VerifyingPaymaster, and session management. Every test
//! runs on each account family in turn ([`on_every_family`]), SmartSession's refusals as the
//! family reports them ([`World::submit_rejected`]); where a family's bytecode answers
//! otherwise (Kernel's selector gate), the test says so.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use mandate::abi::AccountType;
use mandate::{
    abi::{
        ActionId, CallType, ExecType, PermissionId, Policy,
        builder::fallback_action,
        execute_calldata, mode_code,
        sol::{IERC721, IERC7579Account, IEntryPoint, ISmartSession, IVerifyingPaymaster},
    },
    sim::PAYMASTER_SIGNER,
};
use mandate_testing::{policy_data::*, verdict::*, world::*};

/// Kernel's `InvalidValidator()`.
const KERNEL_INVALID_VALIDATOR: [u8; 4] = alloy_primitives::hex!("682a6e7c");

/// A safe mint to an EOA: Nexus 1.0.x has no `onERC721Received`, so a safe mint to the account
/// itself reverts in execution there (these tests are about validation).
fn mint(w: &World) -> Call {
    let to = Address::repeat_byte(0x7e);
    Call::new(w.ops.d.test_erc721, IERC721::safeMintCall { to }.abi_encode())
}

fn sudo(w: &World) -> Vec<mandate::abi::PolicyData> {
    vec![policy(w.ops.d.chain.policies.sudo, vec![])]
}

/// A world with one session allowing safeMint, plus `extra` actions.
fn mint_session(
    family: AccountType,
    extra: impl FnOnce(&World) -> Vec<mandate::abi::ActionData>,
) -> (World, PermissionId) {
    let mut w = World::with_family(family);
    let mut actions = vec![action(w.ops.d.test_erc721, IERC721::safeMintCall::SELECTOR, sudo(&w))];
    actions.extend(extra(&w));
    let s = w.session(1, actions);
    let id = w.enable_sessions(vec![s])[0];
    (w, id)
}

/// `installModule(validator, module, "")`.
fn install_call(module: Address) -> Bytes {
    mandate::abi::account::install_validator(module, Bytes::new())
}

/// The validator a session installs in these tests: Mandate's OwnableValidator (an ERC-7579
/// validator, type 1: Nexus 1.0.x and the reference account ask `isModuleType(1)`), owned by
/// the world's owner.
fn validator(w: &World) -> Address {
    w.ops.d.chain.session_validators.ownable.expect("the devnet's OwnableValidator")
}

/// `installModule` of [`validator`] with its init data `abi.encode(1, [owner])` in the
/// family's install envelope (Kernel's hook / selector envelope, as for SmartSession; the
/// bytes as they are elsewhere).
fn install_validator_call(w: &World) -> Bytes {
    let init = (U256::from(1), vec![w.ops.owner.address()]).abi_encode_params();
    let data = w.account_type().smart_session_install_data(&init);
    mandate::abi::account::install_validator(validator(w), data)
}

fn is_installed(w: &mut World, module: Address) -> bool {
    let call = IERC7579Account::isModuleInstalledCall {
        moduleTypeId: U256::from(1),
        module,
        additionalContext: Bytes::new(),
    };
    w.devnet.call_sol(w.ops.account, &call).unwrap()
}

#[test]
fn execute_on_the_account_itself_is_an_invalid_self_call() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |w| vec![fallback_action(sudo(w))]);
        let inner = execute_calldata(mode_code(CallType::Single, ExecType::Default), vec![]);
        let op = w.use_op(id, &[Call::new(w.ops.account, inner.clone()), mint(&w)]);
        w.submit_rejected(op, "InvalidSelfCall", &[]);
        let op = w.use_op(id, &[Call::new(w.ops.account, inner)]);
        w.submit_rejected(op, "InvalidSelfCall", &[]);
    });
}

#[test]
fn the_fallback_flag_address_is_an_invalid_target() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |w| vec![fallback_action(sudo(w))]);
        let op = w.use_op(id, &[Call::new(Address::with_last_byte(1), vec![0, 0, 0, 1])]);
        w.submit_rejected(op, "InvalidTarget", &[]);
    });
}

#[test]
fn module_management_through_a_session_needs_an_action_or_the_generic_fallback() {
    on_every_family(|family| {
        // Without fallback: installModule on the account has no policy.
        let (mut w, id) = mint_session(family, |_| vec![]);
        let module = validator(&w);
        let op = w.use_op(id, &[Call::new(w.ops.account, install_validator_call(&w))]);
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);
        // Calling installModule directly (not through execute) needs the (account, selector) action.
        let op = w.use_op_data(id, install_validator_call(&w));
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);
        assert!(!is_installed(&mut w, module));

        // As upstream: the generic fallback also covers account self-calls other than execute.
        let (mut w, id) = mint_session(family, |w| vec![fallback_action(sudo(w))]);
        let op = w.use_op(id, &[Call::new(w.ops.account, install_validator_call(&w))]);
        included(&w.submit(op));
        assert!(is_installed(&mut w, module));
        // A direct account call never uses the fallback.
        let op = w.use_op_data(id, install_call(w.ops.d.chain.policies.sudo));
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);
    });
}

#[test]
fn a_direct_account_call_is_authorised_by_its_account_action() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |w| {
            vec![action(w.ops.account, IERC7579Account::installModuleCall::SELECTOR, sudo(w))]
        });
        let module = validator(&w);
        let op = w.use_op_data(id, install_validator_call(&w));
        let outcome = w.submit(op);
        if family == AccountType::Kernel {
            // SmartSession accepts, but Kernel v3.1 then gates a non-root validator by selector:
            // SmartSession is installed for `execute` only, so `installModule` as the op's own
            // callData is refused in validation with `InvalidValidator()`.
            let rejection = outcome.rejection().unwrap_or_else(|| panic!("{outcome:?}"));
            assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
            let inner = rejection.inner.as_ref().unwrap();
            assert_eq!(inner.data.as_ref(), KERNEL_INVALID_VALIDATOR, "{inner}");
            assert!(!is_installed(&mut w, module));
        } else {
            included(&outcome);
            assert!(is_installed(&mut w, module));
        }
    });
}

#[test]
fn calling_smart_session_needs_its_own_fallback_action() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |w| vec![fallback_action(sudo(w))]);
        let remove = w.smart_session_call(ISmartSession::removeSessionCall { permissionId: id.0 });
        let op = w.use_op(id, &[remove]);
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);

        let admin = action(Address::with_last_byte(1), [0, 0, 0, 2], sudo(&w));
        let (mut w, id) = mint_session(family, |_| vec![admin]);
        let remove = w.smart_session_call(ISmartSession::removeSessionCall { permissionId: id.0 });
        let op = w.use_op(id, &[remove]);
        included(&w.submit(op));
        let enabled = w.view(&ISmartSession::isPermissionEnabledCall {
            permissionId: id.0,
            account: w.ops.account,
        });
        assert!(!enabled);
        let op = w.use_op(id, &[mint(&w)]);
        w.submit_rejected(op, "InvalidPermissionId", &[id.0.to_string()]);
    });
}

#[test]
fn unsupported_call_and_exec_types() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |_| vec![]);
        let single = mandate::abi::encode_single(&mint(&w));
        let op = w.use_op_data(
            id,
            execute_calldata(mode_code(CallType::Single, ExecType::Try), single.clone()),
        );
        w.submit_rejected(op, "UnsupportedExecutionType", &[]);
        let mut static_mode = mode_code(CallType::Single, ExecType::Default);
        static_mode.0[0] = 0xfe;
        let op = w.use_op_data(id, execute_calldata(static_mode, single));
        w.submit_rejected(op, "UnsupportedCallType", &["0xfe".to_string()]);
        let op = w.use_op_data(
            id,
            execute_calldata(
                mode_code(CallType::Batch, ExecType::Default),
                mandate::abi::encode_batch(&[]),
            ),
        );
        w.submit_rejected(op, "NoExecutionsInBatch", &[]);
        let execute_user_op = [0x8d, 0xd7, 0x71, 0x2f, 0, 0, 0, 0];
        let op = w.use_op_data(id, Bytes::copy_from_slice(&execute_user_op));
        w.submit_rejected(op, "UnsupportedExecutionType", &[]);
    });
}

#[test]
fn an_unknown_or_removed_permission_is_invalid() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |_| vec![]);
        let other = PermissionId(B256::repeat_byte(9));
        let op = w.use_op(other, &[mint(&w)]);
        w.submit_rejected(op, "InvalidPermissionId", &[other.0.to_string()]);
        w.owner_exec(&[
            w.smart_session_call(ISmartSession::removeSessionCall { permissionId: id.0 })
        ]);
        let op = w.use_op(id, &[mint(&w)]);
        w.submit_rejected(op, "InvalidPermissionId", &[id.0.to_string()]);
    });
}

// ---------------------------------------------------------------- paymaster

fn sponsored(w: &mut World, id: PermissionId, calls: &[Call]) -> mandate::abi::PackedUserOperation {
    w.sponsored_use_op(id, mandate::abi::execute_calls(calls))
}

#[test]
fn genesis_paymaster_is_configured() {
    on_every_family(|family| {
        let mut w = World::with_family(family);
        let signer = w
            .devnet
            .call_sol(
                w.ops.d.chain.paymaster.expect("the devnet's paymaster"),
                &IVerifyingPaymaster::verifyingSignerCall {},
            )
            .unwrap();
        assert_eq!(signer, PAYMASTER_SIGNER);
        let deposit = paymaster_deposit(&mut w);
        assert_eq!(deposit, U256::from(mandate::sim::PAYMASTER_DEPOSIT));
    });
}

#[test]
fn paymaster_needs_the_opt_in_and_a_user_op_policy() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |_| vec![]);
        let m = mint(&w);
        let op = sponsored(&mut w, id, &[m]);
        w.submit_rejected(op, "PaymasterValidationNotEnabled", &[id.0.to_string()]);

        w.owner_exec(&[w.smart_session_call(ISmartSession::setPermit4337PaymasterCall {
            permissionId: id.0,
            enabled: true,
        })]);
        let m = mint(&w);
        let op = sponsored(&mut w, id, &[m]);
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);

        w.owner_exec(&[w.smart_session_call(ISmartSession::enableUserOpPoliciesCall {
            permissionId: id.0,
            userOpPolicies: sudo(&w),
        })]);
        let before = w.devnet.balance(w.ops.account);
        let m = mint(&w);
        let op = sponsored(&mut w, id, &[m]);
        let receipt = included(&w.submit(op)).clone();
        assert!(receipt.actual_gas_cost > U256::ZERO);
        assert_eq!(w.devnet.balance(w.ops.account), before, "the paymaster paid");
        let deposit = paymaster_deposit(&mut w);
        assert_eq!(deposit, U256::from(mandate::sim::PAYMASTER_DEPOSIT) - receipt.actual_gas_cost);
    });
}

// ---------------------------------------------------------------- management and views

#[test]
fn management_functions_and_views() {
    on_every_family(|family| {
        let (mut w, id) = mint_session(family, |_| vec![]);
        let (acct, ss) = (w.ops.account, w.ops.smart_session);
        let (sudo_p, usage, tf) = (
            w.ops.d.chain.policies.sudo,
            w.ops.d.chain.policies.usage_limit,
            w.ops.d.chain.policies.time_frame,
        );
        let mint_id = ActionId::new(w.ops.d.test_erc721, IERC721::safeMintCall::SELECTOR.into());

        assert!(w.view(&ISmartSession::isISessionValidatorSetCall {
            permissionId: id.0,
            account: acct
        }));
        assert!(w.view(&ISmartSession::isActionIdEnabledCall {
            account: acct,
            permissionId: id.0,
            actionId: mint_id.0
        }));
        assert!(w.view(&ISmartSession::isActionPolicyEnabledCall {
            account: acct,
            permissionId: id.0,
            actionId: mint_id.0,
            policy: sudo_p
        }));

        // user-op policies: enable two, disable one.
        let ops = vec![policy(usage, init(Policy::UsageLimit(5))), policy(tf, time_frame(0, 1))];
        w.owner_exec(&[w.smart_session_call(ISmartSession::enableUserOpPoliciesCall {
            permissionId: id.0,
            userOpPolicies: ops.clone(),
        })]);
        assert_eq!(
            w.view(&ISmartSession::getUserOpPoliciesCall { account: acct, permissionId: id.0 }),
            vec![usage, tf]
        );
        let are = |w: &mut World, policies: Vec<mandate::abi::PolicyData>| {
            w.view(&ISmartSession::areUserOpPoliciesEnabledCall {
                account: acct,
                permissionId: id.0,
                policies,
            })
        };
        assert!(are(&mut w, ops.clone()));
        assert!(are(&mut w, vec![]));
        let receipt =
            w.owner_exec(&[w.smart_session_call(ISmartSession::disableUserOpPoliciesCall {
                permissionId: id.0,
                policies: vec![usage, sudo_p],
            })]);
        let disabled: Vec<_> = receipt
            .logs
            .iter()
            .filter(|l| l.topics()[0] == ISmartSession::PolicyDisabled::SIGNATURE_HASH)
            .map(|l| ISmartSession::PolicyDisabled::decode_log_data(&l.data).unwrap().policy)
            .collect();
        assert_eq!(disabled, vec![usage], "only present policies are announced");
        assert!(!are(&mut w, ops));
        assert!(w.view(&ISmartSession::isUserOpPolicyEnabledCall {
            account: acct,
            permissionId: id.0,
            policy: tf
        }));

        // ERC-1271 policies and ERC-7739 content.
        let domain = B256::repeat_byte(0xd0);
        let data7739 = mandate::abi::ERC7739Data {
            allowedERC7739Content: vec![mandate::abi::ERC7739Context {
                appDomainSeparator: domain,
                contentNames: vec!["Permit(bytes32 stuff)Permit".into(), "Mail(string a)".into()],
            }],
            erc1271Policies: sudo(&w),
        };
        w.owner_exec(&[w.smart_session_call(ISmartSession::enableERC1271PoliciesCall {
            permissionId: id.0,
            erc1271Policies: data7739,
        })]);
        assert_eq!(
            w.view(&ISmartSession::getERC1271PoliciesCall { account: acct, permissionId: id.0 }),
            vec![sudo_p]
        );
        assert!(w.view(&ISmartSession::isERC7739ContentEnabledCall {
            account: acct,
            permissionId: id.0,
            appDomainSeparator: domain,
            content: "Mail(string a)".into()
        }));
        let content = w.view(&ISmartSession::getEnabledERC7739ContentCall {
            account: acct,
            permissionId: id.0,
        });
        assert_eq!(content.len(), 1);
        assert_eq!(content[0].appDomainSeparator, domain);
        assert_eq!(
            content[0].contentNameHashes,
            vec![
                alloy_primitives::keccak256("Permit(bytes32 stuff)Permit"),
                alloy_primitives::keccak256("Mail(string a)")
            ]
        );
        let ctx = vec![mandate::abi::ERC7739Context {
            appDomainSeparator: domain,
            contentNames: vec!["Permit(bytes32 stuff)Permit".into(), "Mail(string a)".into()],
        }];
        w.owner_exec(&[w.smart_session_call(ISmartSession::disableERC1271PoliciesCall {
            permissionId: id.0,
            policies: vec![sudo_p],
            contexts: ctx,
        })]);
        assert!(
            w.view(&ISmartSession::getEnabledERC7739ContentCall {
                account: acct,
                permissionId: id.0
            })
            .is_empty()
        );
        assert!(
            w.view(&ISmartSession::getERC1271PoliciesCall { account: acct, permissionId: id.0 })
                .is_empty()
        );

        // Actions: disabling the last policy of an action removes it.
        let receipt =
            w.owner_exec(&[w.smart_session_call(ISmartSession::disableActionPoliciesCall {
                permissionId: id.0,
                actionId: mint_id.0,
                policies: vec![sudo_p],
            })]);
        assert!(
            receipt
                .logs
                .iter()
                .any(|l| l.topics()[0] == ISmartSession::ActionIdDisabled::SIGNATURE_HASH)
        );
        assert!(
            w.view(&ISmartSession::getEnabledActionsCall { account: acct, permissionId: id.0 })
                .is_empty()
        );
        let op = w.use_op(id, &[mint(&w)]);
        w.submit_rejected(op, "NoPoliciesSet", &[id.0.to_string()]);

        let actions = vec![action(w.ops.d.test_erc721, IERC721::safeMintCall::SELECTOR, sudo(&w))];
        w.owner_exec(&[w.smart_session_call(ISmartSession::enableActionPoliciesCall {
            permissionId: id.0,
            actionPolicies: actions.clone(),
        })]);
        let are_enabled =
            ISmartSession::areActionsEnabledCall { account: acct, permissionId: id.0, actions };
        let out = w.devnet.call(ss, are_enabled.abi_encode().into()).unwrap();
        assert_eq!(out[31], 1);
        let op = w.use_op(id, &[mint(&w)]);
        // The time-frame user-op policy (validAfter 1) still applies, and passes.
        included(&w.submit(op));

        w.owner_exec(&[w.smart_session_call(ISmartSession::disableActionIdCall {
            permissionId: id.0,
            actionId: mint_id.0,
        })]);
        assert!(!w.view(&ISmartSession::isActionIdEnabledCall {
            account: acct,
            permissionId: id.0,
            actionId: mint_id.0
        }));
        assert!(
            w.view(&ISmartSession::getActionPoliciesCall {
                account: acct,
                permissionId: id.0,
                actionId: mint_id.0
            })
            .is_empty()
        );
    });
}

#[test]
fn management_of_an_unknown_permission_is_refused() {
    on_every_family(|family| {
        let (mut w, _) = mint_session(family, |_| vec![]);
        let other = B256::repeat_byte(3);
        let call = w.smart_session_call(ISmartSession::enableUserOpPoliciesCall {
            permissionId: other,
            userOpPolicies: sudo(&w),
        });
        let outcome = w.owner_exec_outcome(&[call]);
        w.assert_execution_reverted(&outcome, "InvalidPermissionId", Some(&[other.to_string()]));
        let call = w.smart_session_call(ISmartSession::disableActionIdCall {
            permissionId: other,
            actionId: other,
        });
        let outcome = w.owner_exec_outcome(&[call]);
        w.assert_execution_reverted(&outcome, "InvalidPermissionId", None);
    });
}

/// The devnet paymaster's deposit at the EntryPoint.
fn paymaster_deposit(w: &mut World) -> U256 {
    let paymaster = w.ops.d.chain.paymaster.expect("the devnet's paymaster");
    let call = IEntryPoint::balanceOfCall { account: paymaster };
    w.devnet.call_sol(w.ops.d.chain.entry_point, &call).unwrap()
}
