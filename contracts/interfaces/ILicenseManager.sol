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

    /// @notice A usage signer (a worker key) the buyer registered to a license (one slot).
    /// `settledCounter` is the highest access counter of this signer already settled; `revokedAt`
    /// is 0 while active, else the revocation time (its signatures count for `settlementGrace`
    /// more, so uses served before the revocation are still paid).
    struct UsageSigner {
        bool registered;
        uint40 revokedAt;
        uint64 settledCounter;
    }

    /// @notice A worker's EIP-712 `AccessRequest(bytes32 licenseId,uint64 counter,bytes32
    /// requestHash)` signature (domain `LicenseManager`/`1`), in EIP-2098 compact form
    /// (`vs = s | (v - 27) << 255`). `counter` is the signer's cumulative number of served uses
    /// including this one; `requestHash` is opaque to the chain (the client hashes the request's
    /// details with a random salt; no time).
    struct SignedAccess {
        uint64 counter;
        bytes32 requestHash;
        bytes32 r;
        bytes32 vs;
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
    /// @notice The buyer registered a usage signer (worker key) for the license.
    event UsageSignerAdded(bytes32 indexed licenseId, address indexed signer);
    /// @notice The buyer revoked a usage signer; its signatures are refused after `effectiveAt`
    /// (= revocation time + settlementGrace). The access path refuses it at once.
    event UsageSignerRevoked(bytes32 indexed licenseId, address indexed signer, uint256 effectiveAt);
    event SettlementGraceUpdated(uint256 previous, uint256 grace);

    /// @notice Only the content's creator may do this.
    error License__NotCreator();
    /// @notice The content is unknown or archived.
    error License__ContentNotAvailable();
    /// @notice pricePerUse and maxUses must be positive.
    error License__InvalidTerms();
    /// @notice pricePerUse × maxUses exceeds MAX_LICENSE_AMOUNT (10^30).
    error License__AmountTooLarge(uint256 amount, uint256 max);
    error License__UnknownTerms();
    error License__TermsInactive();
    error License__UnknownLicense();
    error License__AlreadyRevoked();
    /// @notice The credential commitment is 0 or not a field element.
    error License__InvalidCommitment();
    /// @notice The buyer already has a license with this id: the nonce was used under these terms.
    error License__LicenseExists();
    /// @notice The caller may not purchase for this buyer (only the buyer, or the relayer with the
    /// buyer's `Purchase` signature, may).
    error License__NotAuthorized();
    /// @notice Only the license's licensee (buyer) may do this.
    error License__NotLicensee();
    /// @notice The permit failed and the escrow's allowance does not cover the amount.
    error License__InsufficientAllowance(uint256 allowance, uint256 amount);
    error License__SignatureExpired();
    error License__InvalidSignature();
    /// @notice recordUsage out of order (startIndex is not the uses so far).
    error License__UsageOutOfOrder();
    error License__MaxUsesExceeded();
    error License__Revoked();
    /// @notice The usage signer is zero or already registered (a revoked signer cannot come back).
    error License__InvalidUsageSigner(address signer);
    /// @notice The signer is not registered to the license, or already revoked.
    error License__UsageSignerNotActive(address signer);
    /// @notice An access signature is malformed (not a canonical secp256k1 signature).
    error License__InvalidAccessSignature(uint256 index);
    /// @notice An access signature recovers to an address that is not a usage signer of the license
    /// (forged, made for another license, or by an unregistered key).
    error License__UnknownUsageSigner(address recovered);
    /// @notice The signer was revoked more than settlementGrace ago.
    error License__UsageSignerRevoked(address signer);
    /// @notice The access counter is not above the signer's last settled counter (a replay, or a
    /// counter already paid).
    error License__StaleAccessCounter(address signer, uint64 counter, uint64 settledCounter);
    /// @notice The batch's count differs from the uses its access signatures cover.
    error License__SignedUsesMismatch(uint256 signedUses, uint256 count);
    /// @notice settlementGrace out of [MIN_SETTLEMENT_GRACE, MAX_SETTLEMENT_GRACE].
    error License__InvalidSettlementGrace();

    /// @notice Creates terms for the caller's content. `durationSeconds == 0`: no expiry.
    /// `pricePerUse × maxUses` must be at most MAX_LICENSE_AMOUNT (10^30, `License__AmountTooLarge`).
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
    /// @param credentialCommitment `Poseidon(secret, uint256(licenseId) % p)`: non-zero, below p. It
    /// is bound to this license only (no global uniqueness: copying a pending purchase's commitment
    /// into another license cannot block it).
    /// @param nonce Chosen by the purchaser (e.g. 256 random bits), so that the licenseId, and the
    /// commitment bound to it, are known before sending whatever else the buyer buys meanwhile;
    /// a nonce the buyer already used under these terms reverts with `License__LicenseExists`.
    /// @return licenseId `licenseIdFor(termsId, msg.sender, nonce)` =
    /// `keccak256(abi.encode(termsId, buyer, nonce))`.
    function purchase(bytes32 termsId, uint256 credentialCommitment, uint256 nonce)
        external
        returns (bytes32 licenseId);

    /// @notice Buys a license for `buyer` with an EIP-2612 permit for the escrow (value
    /// `quote(termsId)`), sent by the buyer or by the relayer. When the sender is not the buyer,
    /// `buyerSignature` must be the buyer's EIP-712 signature (domain `LicenseManager`/`1`; ERC-1271
    /// for contract wallets) of `Purchase(bytes32 termsId,uint256 credentialCommitment,uint256
    /// nonce,uint256 deadline)`, so the relayer can buy nothing the buyer did not sign, whatever
    /// allowance the buyer gave the escrow; it cannot be replayed (the nonce fixes the licenseId,
    /// a second purchase reverts `License__LicenseExists`). When the buyer sends it, pass empty
    /// bytes. `deadline` is both the permit's and the signature's. The permit is tried and its
    /// failure ignored when the allowance already covers the amount (someone may have submitted
    /// it first). `nonce` and the returned licenseId as in `purchase`, with `buyer` for msg.sender.
    function purchaseWithPermit(
        bytes32 termsId,
        address buyer,
        uint256 credentialCommitment,
        uint256 nonce,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s,
        bytes calldata buyerSignature
    ) external returns (bytes32 licenseId);

    /// @notice Revokes a license (the content's creator): no further usage can be logged, and its
    /// unused deposit becomes refundable at once.
    function revoke(bytes32 licenseId) external;

    /// @notice Revokes on the creator's behalf (RELAYER_ROLE) with their EIP-712 `RevokeLicense`
    /// signature.
    function revokeWithSig(bytes32 licenseId, uint256 deadline, bytes calldata signature) external;

    /// @notice Registers a usage signer (a worker key) for a license: the licensee only. Each
    /// access the worker makes is signed by this key; only such signatures make uses billable.
    function addUsageSigner(bytes32 licenseId, address signer) external;

    /// @notice Registers a usage signer with the licensee's EIP-712 signature of
    /// `AddUsageSigner(bytes32 licenseId,address signer,uint256 nonce,uint256 deadline)`, nonce
    /// `nonces(licensee)` (anyone may relay it).
    function addUsageSignerWithSig(bytes32 licenseId, address signer, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Revokes a usage signer: the licensee only. Its signatures count for settlementGrace
    /// more (uses already served get paid), then are refused; it cannot be registered again.
    function revokeUsageSigner(bytes32 licenseId, address signer) external;

    /// @notice Revokes a usage signer with the licensee's EIP-712 signature of
    /// `RevokeUsageSigner(bytes32 licenseId,address signer,uint256 nonce,uint256 deadline)`, nonce
    /// `nonces(licensee)` (anyone may relay it).
    function revokeUsageSignerWithSig(bytes32 licenseId, address signer, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Records a proven usage batch (TRACKER_ROLE: UsageTracker, after the proof verified;
    /// not separately pausable: UsageTracker's pause stops it) and settles it with the escrow.
    /// `accesses` are the buyer-signed access requests that make the batch billable: for each, in
    /// order, the signer is recovered and must be a registered, not-revoked (or within grace)
    /// usage signer of the license, its counter above the signer's settled counter; it covers
    /// `counter - settledCounter` uses and becomes the new settled counter. The sum must equal
    /// `count`. So one signature per signer per batch (its latest) suffices, and the platform
    /// cannot settle a use no buyer key signed, replay a signature or reuse a counter.
    function recordUsage(
        bytes32 licenseId,
        uint32 startIndex,
        uint32 count,
        uint256 chainNew,
        SignedAccess[] calldata accesses
    ) external;

    /// @notice Sets the settlement grace (DEFAULT_ADMIN_ROLE), within [1 hour, 30 days].
    function setSettlementGrace(uint256 grace) external;

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
    /// @notice A usage signer's registration and settled counter (all zero if never registered).
    function usageSigner(bytes32 licenseId, address signer) external view returns (UsageSigner memory);
    /// @notice The EIP-712 digest a worker signs for an access (what `recordUsage` recovers from).
    function accessDigest(bytes32 licenseId, uint64 counter, bytes32 requestHash) external view returns (bytes32);
    /// @notice After expiry (or a signer's revocation), the time served uses can still be settled.
    function settlementGrace() external view returns (uint256);
}
