// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title IContentRegistry
/// @notice Content registered with an authenticity proof (Flow 1): who created it (an address bound
/// to a creator commitment), its SHA-256 hash, the digest of its IPFS CID and a commitment to its
/// private creation timestamp.
interface IContentRegistry is IMarketplaceBase {
    /// @notice NONE (never registered), REGISTERED (licensable), ARCHIVED (withdrawn by its creator:
    /// no new terms or purchases; existing licenses keep running).
    enum ContentState {
        NONE,
        REGISTERED,
        ARCHIVED
    }

    /// @notice One registered content item.
    struct Content {
        address creator;
        uint40 registeredAt;
        ContentState state;
        bytes32 contentHash;
        bytes32 cidDigest;
        uint256 timestampCommitment;
    }

    /// @notice A content item was registered (`contentId` as `contentIdOf(contentHash)`).
    event ContentRegistered(
        bytes32 indexed contentId,
        address indexed creator,
        bytes32 contentHash,
        bytes32 cidDigest,
        uint256 timestampCommitment
    );
    /// @notice A creator's commitment was recorded with their first registration.
    event CreatorEnrolled(address indexed creator, uint256 creatorCommitment);
    /// @notice The creator archived a content item.
    event ContentArchived(bytes32 indexed contentId, address indexed creator);

    /// @notice Only the relayer or the creator themself may register.
    error Registry__NotAuthorized();
    /// @notice The creator address was zero.
    error Registry__ZeroCreator();
    /// @notice A content item with this hash is already registered (on this registry and chain).
    error Registry__AlreadyRegistered(bytes32 contentId);
    /// @notice The authenticity proof does not verify against these public signals.
    error Registry__InvalidProof();
    /// @notice The creator's recorded commitment differs from the one given.
    error Registry__CommitmentMismatch();
    /// @notice The commitment is already recorded for another creator.
    error Registry__CommitmentTaken();
    /// @notice A creator's first registration (which records their commitment) must be relayed by
    /// the platform, which derived the commitment from the creator's address.
    error Registry__CreatorNotEnrolled();
    /// @notice Only the content's creator may do this.
    error Registry__NotCreator();
    /// @notice An `archiveWithSig` signature's deadline has passed.
    error Registry__SignatureExpired();
    /// @notice An `archiveWithSig` signature is not the content creator's over `Archive(contentId, deadline)`.
    error Registry__InvalidSignature();
    /// @notice The content is not in the REGISTERED state (unknown or archived).
    error Registry__NotRegistered();
    /// @notice The proof's timestamp window is not inside [block.timestamp − REGISTRATION_MAX_SKEW,
    /// block.timestamp] (or is empty), so its committed timestamp may be outside it.
    error Registry__TimestampOutOfRange(uint256 notBefore, uint256 notAfter, uint256 blockTime);

    /// @notice Registers a content item after checking its authenticity proof, whose public signals
    /// are `[creatorCommitment, timestampCommitment, contentHash >> 128, contentHash & (2^128-1),
    /// notBefore, notAfter, domain()]`. The window must satisfy `block.timestamp −
    /// REGISTRATION_MAX_SKEW ≤ notBefore ≤ notAfter ≤ block.timestamp`; the proof shows the committed
    /// timestamp is inside it, so it is at most REGISTRATION_MAX_SKEW (1 hour) before this block.
    /// @dev Callable by RELAYER_ROLE or by `creator` themself (once the creator is enrolled). The
    /// proof shows knowledge of the secret behind `creatorCommitment`, which the platform derives
    /// from the creator's address: it does not show that the creator alone holds it (SECURITY.md).
    /// @param contentHash SHA-256 of the content bytes.
    /// @param cidDigest SHA-256 digest inside the CIDv0 multihash.
    /// @param creator the creator's address; the content is theirs.
    /// @param creatorCommitment Poseidon(creatorSecret); recorded with the first registration and
    /// required to match after.
    /// @param timestampCommitment Poseidon(timestamp, salt, contentHashHi, contentHashLo).
    /// @param notBefore lower bound of the committed timestamp (unix seconds, public signal).
    /// @param notAfter upper bound of the committed timestamp (unix seconds, public signal).
    /// @param proof `[a0, a1, b00, b01, b10, b11, c0, c1]`.
    /// @return contentId `keccak256(abi.encode(block.chainid, address(this), contentHash))`.
    function registerContent(
        bytes32 contentHash,
        bytes32 cidDigest,
        address creator,
        uint256 creatorCommitment,
        uint256 timestampCommitment,
        uint40 notBefore,
        uint40 notAfter,
        uint256[8] calldata proof
    ) external returns (bytes32 contentId);

    /// @notice Archives a content item (its creator only): no new terms or purchases.
    function archive(bytes32 contentId) external;

    /// @notice Archives a content item with its creator's EIP-712 signature over
    /// `Archive(bytes32 contentId,uint256 deadline)` (domain "ContentRegistry", "1"); relayer only.
    /// A signature works once: archived content never becomes REGISTERED again.
    /// @param contentId the content to archive (REGISTERED).
    /// @param deadline unix seconds after which the signature is refused.
    /// @param signature the creator's signature (ECDSA, or ERC-1271 for a contract creator).
    function archiveWithSig(bytes32 contentId, uint256 deadline, bytes calldata signature) external;

    /// @notice The content record (state NONE if unknown).
    function getContent(bytes32 contentId) external view returns (Content memory);

    /// @notice The creator of a content item (zero if unknown), whatever its state.
    function creatorOf(bytes32 contentId) external view returns (address);

    /// @notice Creator and state of a content item (one storage read; used by LicenseManager).
    function creatorAndState(bytes32 contentId) external view returns (address creator, ContentState state);

    /// @notice The content id a hash registers under on this registry and chain.
    function contentIdOf(bytes32 contentHash) external view returns (bytes32);

    /// @notice The commitment recorded for a creator (0 if not enrolled).
    function creatorCommitmentOf(address creator) external view returns (uint256);

    /// @notice The creator a commitment is recorded for (zero if none).
    function creatorOfCommitment(uint256 creatorCommitment) external view returns (address);

    /// @notice This contract's proof domain (public input of the authenticity circuit).
    function domain() external view returns (uint256);
}
