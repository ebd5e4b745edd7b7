// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {SNARK_SCALAR_FIELD} from "../Constants.sol";

/// @title Groth16
/// @notice Helpers shared by the proof-consuming contracts (ContentRegistry, UsageTracker).
library Groth16 {
    /// @notice The `domain` public input that binds a proof to one chain and one consuming contract:
    /// `uint256(keccak256(abi.encode(block.chainid, consumer))) % p` (docs/design.md, "Field encoding").
    function domain(address consumer) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, consumer))) % SNARK_SCALAR_FIELD;
    }

    /// @notice Calls a snarkjs-generated verifier's `verifyProof(uint[2] a, uint[2][2] b, uint[2] c,
    /// uint[N] input)`. All four arguments are static, so their ABI encoding is the selector followed
    /// by the proof's 8 words (`[a0, a1, b00, b01, b10, b11, c0, c1]`, the order of
    /// `Proof.calldata()` in Python) and the N signal words.
    /// @param selector the verifier interface's `verifyProof.selector` (it depends on N).
    /// @return valid true only if the call succeeded and returned true; a verifier that reverts,
    /// has no code or returns anything else counts as a failed verification.
    function verify(address verifier, bytes4 selector, uint256[8] calldata proof, uint256[] memory signals)
        internal
        view
        returns (bool valid)
    {
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodePacked(selector, proof, signals));
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }
}
