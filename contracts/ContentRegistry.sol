// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {AUTHENTICITY_SIGNALS, REGISTRATION_MAX_SKEW} from "./Constants.sol";
import {Groth16} from "./libraries/Groth16.sol";
import {IContentRegistry} from "./interfaces/IContentRegistry.sol";
import {IAuthenticityVerifier} from "./interfaces/IGroth16Verifiers.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title ContentRegistry
/// @notice Registers content with a Groth16 authenticity proof (Flow 1) and keeps its lifecycle.
/// @dev The authenticity circuit does not take the creator's address as a public input, so the
/// address is bound to the creator commitment here: one commitment per creator and one creator per
/// commitment, recorded by the first registration, which only the platform relayer may send (it
/// derives the commitment from the creator's address). Without that rule anyone could copy a
/// pending first registration from the mempool with their own address as creator.
/// What a registration's proof shows: knowledge of the secret behind the creator commitment (a
/// secret the platform derives, so: the platform registered this content for that address, not
/// that the creator alone holds a key), the canonical content hash, and a timestamp commitment whose
/// timestamp is inside [block.timestamp − REGISTRATION_MAX_SKEW, block.timestamp] (checked here
/// against the proof's public window [notBefore, notAfter]). See contracts/SECURITY.md.
/// Archiving is the creator's act: sent by the creator (`archive`) or relayed with the creator's
/// EIP-712 `Archive(contentId, deadline)` signature (`archiveWithSig`). No nonce: archiving is
/// one-way (ARCHIVED never returns to REGISTERED), so a signature can take effect at most once.
contract ContentRegistry is IContentRegistry, MarketplaceBase, EIP712 {
    /// @notice EIP-712 type of a creator's authorisation to archive a content item.
    bytes32 public constant ARCHIVE_TYPEHASH = keccak256("Archive(bytes32 contentId,uint256 deadline)");

    /// @notice Verifier of the authenticity circuit.
    IAuthenticityVerifier public immutable AUTHENTICITY_VERIFIER;

    mapping(bytes32 contentId => Content) private _contents;
    /// @inheritdoc IContentRegistry
    mapping(address creator => uint256) public creatorCommitmentOf;
    /// @inheritdoc IContentRegistry
    mapping(uint256 creatorCommitment => address) public creatorOfCommitment;

    /// @param admin DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param relayer RELAYER_ROLE (the platform's transaction sender).
    /// @param authenticityVerifier the generated AuthenticityVerifier.
    constructor(address admin, address relayer, IAuthenticityVerifier authenticityVerifier) MarketplaceBase(admin)
        EIP712("ContentRegistry", "1")
    {
        _requireNonZero(relayer);
        _requireNonZero(address(authenticityVerifier));
        _grantRole(RELAYER_ROLE, relayer);
        AUTHENTICITY_VERIFIER = authenticityVerifier;
    }

    /// @inheritdoc IContentRegistry
    function registerContent(
        bytes32 contentHash,
        bytes32 cidDigest,
        address creator,
        uint256 creatorCommitment,
        uint256 timestampCommitment,
        uint40 notBefore,
        uint40 notAfter,
        uint256[8] calldata proof
    ) external whenNotPaused returns (bytes32 contentId) {
        if (creator == address(0)) revert Registry__ZeroCreator();
        // The proof shows notBefore ≤ timestamp ≤ notAfter; this puts the window inside
        // [block.timestamp − REGISTRATION_MAX_SKEW, block.timestamp] (no overflow: checked in order).
        if (notAfter > block.timestamp || notBefore > notAfter || block.timestamp - notBefore > REGISTRATION_MAX_SKEW) {
            revert Registry__TimestampOutOfRange(notBefore, notAfter, block.timestamp);
        }
        bool byRelayer = hasRole(RELAYER_ROLE, msg.sender);
        if (!byRelayer && msg.sender != creator) revert Registry__NotAuthorized();

        contentId = contentIdOf(contentHash);
        if (_contents[contentId].state != ContentState.NONE) revert Registry__AlreadyRegistered(contentId);

        bool enrol = creatorCommitmentOf[creator] == 0;
        if (enrol) {
            if (!byRelayer) revert Registry__CreatorNotEnrolled();
            if (creatorOfCommitment[creatorCommitment] != address(0)) revert Registry__CommitmentTaken();
        } else if (creatorCommitmentOf[creator] != creatorCommitment) {
            revert Registry__CommitmentMismatch();
        }

        _verifyAuthenticity(contentHash, creatorCommitment, timestampCommitment, notBefore, notAfter, proof);

        if (enrol) {
            creatorCommitmentOf[creator] = creatorCommitment;
            creatorOfCommitment[creatorCommitment] = creator;
            emit CreatorEnrolled(creator, creatorCommitment);
        }
        _contents[contentId] = Content({
            creator: creator,
            registeredAt: uint40(block.timestamp),
            state: ContentState.REGISTERED,
            contentHash: contentHash,
            cidDigest: cidDigest,
            timestampCommitment: timestampCommitment
        });
        emit ContentRegistered(contentId, creator, contentHash, cidDigest, timestampCommitment);
    }

    /// @inheritdoc IContentRegistry
    function archive(bytes32 contentId) external whenNotPaused {
        Content storage content = _contents[contentId];
        if (content.state != ContentState.REGISTERED) revert Registry__NotRegistered();
        if (content.creator != msg.sender) revert Registry__NotCreator();
        content.state = ContentState.ARCHIVED;
        emit ContentArchived(contentId, msg.sender);
    }

    /// @inheritdoc IContentRegistry
    function archiveWithSig(bytes32 contentId, uint256 deadline, bytes calldata signature)
        external
        onlyRole(RELAYER_ROLE)
        whenNotPaused
    {
        Content storage content = _contents[contentId];
        if (content.state != ContentState.REGISTERED) revert Registry__NotRegistered();
        if (block.timestamp > deadline) revert Registry__SignatureExpired();
        address creator = content.creator;
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(ARCHIVE_TYPEHASH, contentId, deadline)));
        if (!SignatureChecker.isValidSignatureNow(creator, digest, signature)) revert Registry__InvalidSignature();
        content.state = ContentState.ARCHIVED;
        emit ContentArchived(contentId, creator);
    }

    /// @inheritdoc IContentRegistry
    function getContent(bytes32 contentId) external view returns (Content memory) {
        return _contents[contentId];
    }

    /// @inheritdoc IContentRegistry
    function creatorOf(bytes32 contentId) external view returns (address) {
        return _contents[contentId].creator;
    }

    /// @inheritdoc IContentRegistry
    function creatorAndState(bytes32 contentId) external view returns (address creator, ContentState state) {
        Content storage content = _contents[contentId];
        return (content.creator, content.state);
    }

    /// @inheritdoc IContentRegistry
    function contentIdOf(bytes32 contentHash) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), contentHash));
    }

    /// @inheritdoc IContentRegistry
    function domain() public view returns (uint256) {
        return Groth16.domain(address(this));
    }

    /// @dev Public signals in circuits/registry.json order; the hash enters as two 128-bit limbs.
    function _verifyAuthenticity(
        bytes32 contentHash,
        uint256 creatorCommitment,
        uint256 timestampCommitment,
        uint40 notBefore,
        uint40 notAfter,
        uint256[8] calldata proof
    ) private view {
        uint256[] memory signals = new uint256[](AUTHENTICITY_SIGNALS);
        signals[0] = creatorCommitment;
        signals[1] = timestampCommitment;
        signals[2] = uint256(contentHash) >> 128;
        signals[3] = uint256(contentHash) & type(uint128).max;
        signals[4] = notBefore;
        signals[5] = notAfter;
        signals[6] = domain();
        bool valid = Groth16.verify(
            address(AUTHENTICITY_VERIFIER), IAuthenticityVerifier.verifyProof.selector, proof, signals
        );
        if (!valid) revert Registry__InvalidProof();
    }
}
