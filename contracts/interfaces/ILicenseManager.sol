// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title ILicenseManager
/// @notice License terms per content item and licenses bought under them (Flow 2). A purchase pays
/// `pricePerUse × maxUses` into PaymentEscrow and records the buyer's credential commitment, so
/// usage proofs (Flow 3) never name the licensee.
interface ILicenseManager is IMarketplaceBase {
    /// @notice The kind of license. Every kind is paid per use (`pricePerUse × maxUses` up front,
    /// unused uses refunded); the kind tells buyers what the license permits.
    enum LicenseType {
        PER_USE,
        SUBSCRIPTION,
        RESEARCH,
        COMMERCIAL
    }

    /// @notice NONE (unknown), PURCHASED (no use yet), IN_USE, EXHAUSTED (uses == maxUses),
    /// EXPIRED (past validUntil), REVOKED (by the creator). Derived, in that order of precedence:
    /// REVOKED, EXHAUSTED, EXPIRED, IN_USE, PURCHASED.
    enum LicenseState {
        NONE,
        PURCHASED,
        IN_USE,
        EXHAUSTED,
        EXPIRED,
        REVOKED
    }

    /// @notice Terms a creator offers for one content item; `index` is its position among the
    /// content's terms (termsId = keccak256(abi.encode(contentId, index))).
    struct Terms {
        bytes32 contentId;
        uint96 pricePerUse;
        uint32 maxUses;
        uint40 durationSeconds;
        LicenseType licenseType;
        bool active;
        uint32 index;
    }

    /// @notice A license (five slots). The terms it was bought under are (contentId, termsIndex),
    /// i.e. termsId = keccak256(abi.encode(contentId, termsIndex)) (`licenseTermsId`); price and
    /// maxUses are copied so that the usage path reads no terms.
    struct License {
        bytes32 contentId;
        address licensee;
        uint40 validFrom;
        uint40 validUntil;
        bool revoked;
        uint256 credentialCommitment;
        uint256 chain;
        uint32 uses;
        uint32 maxUses;
        uint96 pricePerUse;
        uint32 termsIndex;
    }

    /// @notice What UsageTracker needs to build a license's public signals, in one call.
    struct UsageContext {
        bytes32 contentId;
        uint256 credentialCommitment;
        uint256 chain;
        uint32 uses;
        uint32 maxUses;
        uint96 pricePerUse;
        uint40 validFrom;
        uint40 validUntil;
        bool revoked;
    }

    event TermsCreated(
        bytes32 indexed termsId,
        bytes32 indexed contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds
    );
    event TermsStatusChanged(bytes32 indexed termsId, bool active);
    /// @param timestamp purchase time (= validFrom).
    event LicensePurchased(
        bytes32 indexed licenseId,
        address indexed licensee,
        bytes32 indexed termsId,
        uint256 timestamp,
        bytes32 contentId,
        uint256 amount,
        uint256 credentialCommitment,
        uint40 validUntil
    );
    event LicenseRevoked(bytes32 indexed licenseId, bytes32 indexed contentId, uint256 timestamp);

    /// @notice Only the content's creator may do this.
    error License__NotCreator();
    /// @notice The content is unknown or archived.
    error License__ContentNotAvailable();
    /// @notice pricePerUse and maxUses must be positive.
    error License__InvalidTerms();
    error License__UnknownTerms();
    error License__TermsInactive();
    error License__UnknownLicense();
    error License__AlreadyRevoked();
    /// @notice The credential commitment is 0, not a field element, or already used by a license.
    error License__InvalidCommitment();
    /// @notice The buyer already has a license with this id: the nonce was used under these terms.
    error License__LicenseExists();
    /// @notice The caller may not purchase for this buyer (only the buyer or the relayer may).
    error License__NotAuthorized();
    /// @notice The permit failed and the escrow's allowance does not cover the amount.
    error License__InsufficientAllowance(uint256 allowance, uint256 amount);
    error License__SignatureExpired();
    error License__InvalidSignature();
    /// @notice recordUsage out of order (startIndex is not the uses so far).
    error License__UsageOutOfOrder();
    error License__MaxUsesExceeded();
    error License__Revoked();

    /// @notice Creates terms for the caller's content. `durationSeconds == 0`: no expiry.
    /// @return termsId `keccak256(abi.encode(contentId, termsCount(contentId)))` before the increment.
    function createTerms(
        bytes32 contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds
    ) external returns (bytes32 termsId);

    /// @notice Creates terms on the creator's behalf (RELAYER_ROLE), authorised by the creator's
    /// EIP-712 `CreateTerms` signature (ERC-1271 for contract wallets), nonce `nonces(creator)`.
    function createTermsWithSig(
        bytes32 contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 termsId);

    /// @notice Opens or closes terms for new purchases (the content's creator).
    function setTermsActive(bytes32 termsId, bool active) external;

    /// @notice Buys a license for msg.sender: the escrow pulls `quote(termsId)` from msg.sender
    /// (approve the escrow first).
    /// @param credentialCommitment `Poseidon(secret, uint256(licenseId) % p)`: unique, non-zero, below p.
    /// @param nonce Chosen by the purchaser (e.g. 256 random bits), so that the licenseId, and the
    /// commitment bound to it, are known before sending whatever else the buyer buys meanwhile;
    /// a nonce the buyer already used under these terms reverts with `License__LicenseExists`.
    /// @return licenseId `licenseIdFor(termsId, msg.sender, nonce)` =
    /// `keccak256(abi.encode(termsId, buyer, nonce))`.
    function purchase(bytes32 termsId, uint256 credentialCommitment, uint256 nonce)
        external
        returns (bytes32 licenseId);

    /// @notice Buys a license for `buyer` with an EIP-2612 permit for the escrow (sent by the
    /// buyer or the relayer). The permit is tried and its failure ignored when the allowance
    /// already covers the amount (someone may have submitted the permit first). `nonce` and the
    /// returned licenseId as in `purchase`, with `buyer` for msg.sender.
    function purchaseWithPermit(
        bytes32 termsId,
        address buyer,
        uint256 credentialCommitment,
        uint256 nonce,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 licenseId);

    /// @notice Revokes a license (the content's creator): no further usage can be logged, and its
    /// unused deposit becomes refundable at once.
    function revoke(bytes32 licenseId) external;

    /// @notice Revokes on the creator's behalf (RELAYER_ROLE) with their EIP-712 `RevokeLicense`
    /// signature.
    function revokeWithSig(bytes32 licenseId, uint256 deadline, bytes calldata signature) external;

    /// @notice Records a proven usage batch (TRACKER_ROLE: UsageTracker, after the proof verified;
    /// not separately pausable: UsageTracker's pause stops it).
    function recordUsage(bytes32 licenseId, uint32 startIndex, uint32 count, uint256 chainNew) external;

    function getTerms(bytes32 termsId) external view returns (Terms memory);
    function termsCount(bytes32 contentId) external view returns (uint256);
    function termsIdAt(bytes32 contentId, uint256 index) external view returns (bytes32);
    function getLicense(bytes32 licenseId) external view returns (License memory);
    /// @notice The termsId a license was bought under.
    function licenseTermsId(bytes32 licenseId) external view returns (bytes32);
    function licenseState(bytes32 licenseId) external view returns (LicenseState);
    /// @notice The license's usage context (all zero, validFrom == 0, for an unknown license).
    function usageContext(bytes32 licenseId) external view returns (UsageContext memory);
    /// @notice The amount a purchase under these terms pays: pricePerUse × maxUses.
    function quote(bytes32 termsId) external view returns (uint256);
    /// @notice The licenseId a purchase by `buyer` under `termsId` with `nonce` gets:
    /// `keccak256(abi.encode(termsId, buyer, nonce))`.
    function licenseIdFor(bytes32 termsId, address buyer, uint256 nonce) external pure returns (bytes32);
    /// @notice Whether a credential commitment is already bound to a license.
    function commitmentUsed(uint256 credentialCommitment) external view returns (bool);
}
