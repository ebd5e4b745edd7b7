// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MarketplaceBase} from "./MarketplaceBase.sol";
import {
    SNARK_SCALAR_FIELD,
    NO_EXPIRY,
    MAX_LICENSE_AMOUNT,
    DEFAULT_SETTLEMENT_GRACE,
    MIN_SETTLEMENT_GRACE,
    MAX_SETTLEMENT_GRACE
} from "./Constants.sol";
import {ILicenseManager} from "./interfaces/ILicenseManager.sol";
import {IContentRegistry} from "./interfaces/IContentRegistry.sol";
import {IPaymentEscrow} from "./interfaces/IPaymentEscrow.sol";

/// @title LicenseManager
/// @notice License terms and licenses (Flow 2). Holds each license's usage accumulator (`chain`) and
/// use count, which only UsageTracker (TRACKER_ROLE) advances after a verified usage-batch proof,
/// and each license's usage signers (worker keys the buyer registers): a batch is settled with the
/// escrow only for uses those keys signed (Flow 4, docs/design.md "Buyer-signed usage").
contract LicenseManager is ILicenseManager, MarketplaceBase, EIP712, Nonces, ReentrancyGuardTransient {
    /// @notice EIP-712 type of a creator's authorisation to create terms through the relayer.
    bytes32 public constant CREATE_TERMS_TYPEHASH = keccak256(
        "CreateTerms(bytes32 contentId,uint8 licenseType,uint96 pricePerUse,uint32 maxUses,uint40 durationSeconds,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a creator's authorisation to revoke a license through the relayer.
    bytes32 public constant REVOKE_LICENSE_TYPEHASH =
        keccak256("RevokeLicense(bytes32 licenseId,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a buyer's authorisation of one relayed purchase.
    bytes32 public constant PURCHASE_TYPEHASH =
        keccak256("Purchase(bytes32 termsId,uint256 credentialCommitment,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a buyer's authorisation to register a usage signer through a relayer.
    bytes32 public constant ADD_USAGE_SIGNER_TYPEHASH =
        keccak256("AddUsageSigner(bytes32 licenseId,address signer,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a buyer's authorisation to revoke a usage signer through a relayer.
    bytes32 public constant REVOKE_USAGE_SIGNER_TYPEHASH =
        keccak256("RevokeUsageSigner(bytes32 licenseId,address signer,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type a usage signer (worker key) signs for each access it makes. No time.
    bytes32 public constant ACCESS_REQUEST_TYPEHASH =
        keccak256("AccessRequest(bytes32 licenseId,uint64 counter,bytes32 requestHash)");

    IContentRegistry public immutable REGISTRY;
    IPaymentEscrow public immutable ESCROW;
    /// @notice The stablecoin licenses are paid in (the escrow's token).
    IERC20 public immutable TOKEN;

    mapping(bytes32 termsId => Terms) private _terms;
    /// @inheritdoc ILicenseManager
    mapping(bytes32 contentId => uint256) public termsCount;
    mapping(bytes32 licenseId => License) private _licenses;
    mapping(bytes32 licenseId => mapping(address signer => UsageSigner)) private _usageSigners;
    /// @inheritdoc ILicenseManager
    uint256 public settlementGrace = DEFAULT_SETTLEMENT_GRACE;

    /// @param admin DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param relayer RELAYER_ROLE.
    constructor(address admin, address relayer, IContentRegistry registry, IPaymentEscrow escrow)
        MarketplaceBase(admin)
        EIP712("LicenseManager", "1")
    {
        _requireNonZero(relayer);
        _requireNonZero(address(registry));
        _requireNonZero(address(escrow));
        _grantRole(RELAYER_ROLE, relayer);
        REGISTRY = registry;
        ESCROW = escrow;
        TOKEN = escrow.TOKEN();
    }

    // ---------------------------------------------------------------- terms

    /// @inheritdoc ILicenseManager
    function createTerms(
        bytes32 contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds
    ) external whenNotPaused returns (bytes32) {
        return _createTerms(msg.sender, contentId, licenseType, pricePerUse, maxUses, durationSeconds);
    }

    /// @inheritdoc ILicenseManager
    function createTermsWithSig(
        bytes32 contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds,
        uint256 deadline,
        bytes calldata signature
    ) external onlyRole(RELAYER_ROLE) whenNotPaused returns (bytes32) {
        address creator = REGISTRY.creatorOf(contentId);
        if (creator == address(0)) revert License__ContentNotAvailable();
        bytes32 structHash = keccak256(
            abi.encode(
                CREATE_TERMS_TYPEHASH,
                contentId,
                licenseType,
                pricePerUse,
                maxUses,
                durationSeconds,
                _useNonce(creator),
                deadline
            )
        );
        _checkSignature(creator, structHash, deadline, signature);
        return _createTerms(creator, contentId, licenseType, pricePerUse, maxUses, durationSeconds);
    }

    /// @inheritdoc ILicenseManager
    function setTermsActive(bytes32 termsId, bool active) external whenNotPaused {
        Terms storage terms = _terms[termsId];
        if (terms.contentId == bytes32(0)) revert License__UnknownTerms();
        address creator = REGISTRY.creatorOf(terms.contentId);
        if (creator != msg.sender) revert License__NotCreator();
        terms.active = active;
        emit TermsStatusChanged(termsId, active);
    }

    // ---------------------------------------------------------------- purchase

    /// @inheritdoc ILicenseManager
    function purchase(bytes32 termsId, uint256 credentialCommitment, uint256 nonce)
        external
        nonReentrant
        whenNotPaused
        returns (bytes32)
    {
        return _purchase(termsId, msg.sender, credentialCommitment, nonce);
    }

    /// @inheritdoc ILicenseManager
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
    ) external nonReentrant whenNotPaused returns (bytes32) {
        if (msg.sender != buyer) {
            if (!hasRole(RELAYER_ROLE, msg.sender)) revert License__NotAuthorized();
            // The buyer names exactly what the relayer may buy: an allowance alone authorises nothing.
            bytes32 structHash =
                keccak256(abi.encode(PURCHASE_TYPEHASH, termsId, credentialCommitment, nonce, deadline));
            _checkSignature(buyer, structHash, deadline, buyerSignature);
        }
        uint256 amount = quote(termsId);
        // A permit seen in the mempool can be submitted by anyone first, which makes this call
        // fail although the allowance is in place: ignore the failure and check the allowance.
        try IERC20Permit(address(TOKEN)).permit(buyer, address(ESCROW), amount, deadline, v, r, s) {} catch {}
        uint256 allowance = TOKEN.allowance(buyer, address(ESCROW));
        if (allowance < amount) revert License__InsufficientAllowance(allowance, amount);
        return _purchase(termsId, buyer, credentialCommitment, nonce);
    }

    // ---------------------------------------------------------------- revocation

    /// @inheritdoc ILicenseManager
    function revoke(bytes32 licenseId) external whenNotPaused {
        _revoke(licenseId, msg.sender);
    }

    /// @inheritdoc ILicenseManager
    function revokeWithSig(bytes32 licenseId, uint256 deadline, bytes calldata signature)
        external
        onlyRole(RELAYER_ROLE)
        whenNotPaused
    {
        address creator = REGISTRY.creatorOf(_contentOf(licenseId));
        bytes32 structHash =
            keccak256(abi.encode(REVOKE_LICENSE_TYPEHASH, licenseId, _useNonce(creator), deadline));
        _checkSignature(creator, structHash, deadline, signature);
        _revoke(licenseId, creator);
    }

    // ---------------------------------------------------------------- usage signers (buyer)

    /// @inheritdoc ILicenseManager
    function addUsageSigner(bytes32 licenseId, address signer) external whenNotPaused {
        if (_licensee(licenseId) != msg.sender) revert License__NotLicensee();
        _addUsageSigner(licenseId, signer);
    }

    /// @inheritdoc ILicenseManager
    function addUsageSignerWithSig(bytes32 licenseId, address signer, uint256 deadline, bytes calldata signature)
        external
        whenNotPaused
    {
        address licensee = _licensee(licenseId);
        bytes32 structHash = keccak256(
            abi.encode(ADD_USAGE_SIGNER_TYPEHASH, licenseId, signer, _useNonce(licensee), deadline)
        );
        _checkSignature(licensee, structHash, deadline, signature);
        _addUsageSigner(licenseId, signer);
    }

    /// @inheritdoc ILicenseManager
    function revokeUsageSigner(bytes32 licenseId, address signer) external whenNotPaused {
        if (_licensee(licenseId) != msg.sender) revert License__NotLicensee();
        _revokeUsageSigner(licenseId, signer);
    }

    /// @inheritdoc ILicenseManager
    function revokeUsageSignerWithSig(bytes32 licenseId, address signer, uint256 deadline, bytes calldata signature)
        external
        whenNotPaused
    {
        address licensee = _licensee(licenseId);
        bytes32 structHash = keccak256(
            abi.encode(REVOKE_USAGE_SIGNER_TYPEHASH, licenseId, signer, _useNonce(licensee), deadline)
        );
        _checkSignature(licensee, structHash, deadline, signature);
        _revokeUsageSigner(licenseId, signer);
    }

    // ---------------------------------------------------------------- usage (UsageTracker)

    /// @inheritdoc ILicenseManager
    function recordUsage(
        bytes32 licenseId,
        uint32 startIndex,
        uint32 count,
        uint256 chainNew,
        SignedAccess[] calldata accesses
    ) external onlyRole(TRACKER_ROLE) {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) revert License__UnknownLicense();
        if (license.revoked) revert License__Revoked();
        if (license.uses != startIndex) revert License__UsageOutOfOrder();
        uint256 uses = uint256(startIndex) + count;
        if (uses > license.maxUses) revert License__MaxUsesExceeded();
        uint256 signed = _settleAccesses(licenseId, accesses);
        if (signed != count) revert License__SignedUsesMismatch(signed, count);
        license.uses = uint32(uses);
        license.chain = chainNew;
        // The money moves only here, after the buyer's signatures were checked: the escrow accepts
        // settlements from this contract alone.
        ESCROW.settle(licenseId, license.contentId, keccak256(abi.encode(licenseId, uint256(startIndex))), count);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ILicenseManager
    function setSettlementGrace(uint256 grace) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (grace < MIN_SETTLEMENT_GRACE || grace > MAX_SETTLEMENT_GRACE) revert License__InvalidSettlementGrace();
        emit SettlementGraceUpdated(settlementGrace, grace);
        settlementGrace = grace;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILicenseManager
    function getTerms(bytes32 termsId) external view returns (Terms memory) {
        return _terms[termsId];
    }

    /// @inheritdoc ILicenseManager
    function termsIdAt(bytes32 contentId, uint256 index) external view returns (bytes32) {
        if (index >= termsCount[contentId]) revert License__UnknownTerms();
        return keccak256(abi.encode(contentId, index));
    }

    /// @inheritdoc ILicenseManager
    function getLicense(bytes32 licenseId) external view returns (License memory) {
        return _licenses[licenseId];
    }

    /// @inheritdoc ILicenseManager
    function licenseTermsId(bytes32 licenseId) external view returns (bytes32) {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) revert License__UnknownLicense();
        return keccak256(abi.encode(license.contentId, uint256(license.termsIndex)));
    }

    /// @inheritdoc ILicenseManager
    function licenseState(bytes32 licenseId) external view returns (LicenseState) {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) return LicenseState.NONE;
        if (license.revoked) return LicenseState.REVOKED;
        if (license.uses >= license.maxUses) return LicenseState.EXHAUSTED;
        if (block.timestamp > license.validUntil) return LicenseState.EXPIRED;
        if (license.uses > 0) return LicenseState.IN_USE;
        return LicenseState.PURCHASED;
    }

    /// @inheritdoc ILicenseManager
    function usageContext(bytes32 licenseId) external view returns (UsageContext memory context) {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) return context;
        context = UsageContext({
            contentId: license.contentId,
            credentialCommitment: license.credentialCommitment,
            chain: license.chain,
            uses: license.uses,
            maxUses: license.maxUses,
            pricePerUse: license.pricePerUse,
            validFrom: license.validFrom,
            validUntil: license.validUntil,
            revoked: license.revoked
        });
    }

    /// @inheritdoc ILicenseManager
    function quote(bytes32 termsId) public view returns (uint256) {
        Terms storage terms = _terms[termsId];
        if (terms.contentId == bytes32(0)) revert License__UnknownTerms();
        return uint256(terms.pricePerUse) * terms.maxUses;
    }

    /// @inheritdoc ILicenseManager
    function usageSigner(bytes32 licenseId, address signer) external view returns (UsageSigner memory) {
        return _usageSigners[licenseId][signer];
    }

    /// @inheritdoc ILicenseManager
    function accessDigest(bytes32 licenseId, uint64 counter, bytes32 requestHash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACCESS_REQUEST_TYPEHASH, licenseId, counter, requestHash)));
    }

    /// @inheritdoc ILicenseManager
    function licenseIdFor(bytes32 termsId, address buyer, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(termsId, buyer, nonce));
    }

    /// @notice The EIP-712 domain separator of every signature this contract checks (`CreateTerms`,
    /// `RevokeLicense`, `Purchase`, `AddUsageSigner`, `RevokeUsageSigner`, `AccessRequest`).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _createTerms(
        address creator,
        bytes32 contentId,
        LicenseType licenseType,
        uint96 pricePerUse,
        uint32 maxUses,
        uint40 durationSeconds
    ) private returns (bytes32 termsId) {
        (address contentCreator, IContentRegistry.ContentState state) = REGISTRY.creatorAndState(contentId);
        if (state != IContentRegistry.ContentState.REGISTERED) revert License__ContentNotAvailable();
        if (contentCreator != creator) revert License__NotCreator();
        if (pricePerUse == 0 || maxUses == 0) revert License__InvalidTerms();
        uint256 amount = uint256(pricePerUse) * maxUses;
        if (amount > MAX_LICENSE_AMOUNT) revert License__AmountTooLarge(amount, MAX_LICENSE_AMOUNT);

        uint256 index = termsCount[contentId]++;
        termsId = keccak256(abi.encode(contentId, index));
        _terms[termsId] = Terms({
            contentId: contentId,
            pricePerUse: pricePerUse,
            maxUses: maxUses,
            durationSeconds: durationSeconds,
            licenseType: licenseType,
            active: true,
            index: uint32(index)
        });
        emit TermsCreated(termsId, contentId, licenseType, pricePerUse, maxUses, durationSeconds);
    }

    /// @dev Effects first, then the escrow pulls the payment (checks-effects-interactions); the
    /// escrow reverts unless it received exactly pricePerUse × maxUses. The license id depends only
    /// on the arguments (not on other purchases), so the commitment bound to it can be computed
    /// before sending, whatever else the buyer sends meanwhile.
    function _purchase(bytes32 termsId, address buyer, uint256 credentialCommitment, uint256 nonce)
        private
        returns (bytes32 licenseId)
    {
        Terms memory terms = _terms[termsId];
        if (terms.contentId == bytes32(0)) revert License__UnknownTerms();
        if (!terms.active) revert License__TermsInactive();
        (address creator, IContentRegistry.ContentState state) = REGISTRY.creatorAndState(terms.contentId);
        if (state != IContentRegistry.ContentState.REGISTERED) revert License__ContentNotAvailable();
        // before the commitment check: a purchase sent twice is refused as the license it repeats
        licenseId = licenseIdFor(termsId, buyer, nonce);
        if (_licenses[licenseId].licensee != address(0)) revert License__LicenseExists();
        // The commitment is bound to this license only: a usage proof opens it with the license's
        // id (credentialCommitment = Poseidon(secret, licenseIdField)), and a batch is billable only
        // with this license's signers' signatures, so two licenses sharing one commitment cannot
        // pay for each other's uses. No global uniqueness, which anyone could use to block a
        // pending purchase by copying its commitment into a cheaper one.
        if (credentialCommitment == 0 || credentialCommitment >= SNARK_SCALAR_FIELD) {
            revert License__InvalidCommitment();
        }

        uint256 validFrom = block.timestamp;
        uint256 validUntil = terms.durationSeconds == 0
            ? NO_EXPIRY
            : _min(validFrom + terms.durationSeconds, NO_EXPIRY);
        _licenses[licenseId] = License({
            contentId: terms.contentId,
            licensee: buyer,
            validFrom: uint40(validFrom),
            validUntil: uint40(validUntil),
            revoked: false,
            credentialCommitment: credentialCommitment,
            chain: 0,
            uses: 0,
            maxUses: terms.maxUses,
            pricePerUse: terms.pricePerUse,
            termsIndex: terms.index
        });
        emit LicensePurchased(
            licenseId,
            buyer,
            termsId,
            validFrom,
            terms.contentId,
            uint256(terms.pricePerUse) * terms.maxUses,
            credentialCommitment,
            uint40(validUntil)
        );
        ESCROW.deposit(licenseId, buyer, creator, terms.pricePerUse, terms.maxUses);
    }

    function _revoke(bytes32 licenseId, address caller) private {
        License storage license = _licenses[licenseId];
        bytes32 contentId = _contentOf(licenseId);
        address creator = REGISTRY.creatorOf(contentId);
        if (creator != caller) revert License__NotCreator();
        if (license.revoked) revert License__AlreadyRevoked();
        license.revoked = true;
        emit LicenseRevoked(licenseId, contentId, block.timestamp);
    }

    function _addUsageSigner(bytes32 licenseId, address signer) private {
        if (_licenses[licenseId].revoked) revert License__Revoked();
        if (signer == address(0) || _usageSigners[licenseId][signer].registered) {
            revert License__InvalidUsageSigner(signer);
        }
        _usageSigners[licenseId][signer] = UsageSigner({registered: true, revokedAt: 0, settledCounter: 0});
        emit UsageSignerAdded(licenseId, signer);
    }

    function _revokeUsageSigner(bytes32 licenseId, address signer) private {
        UsageSigner storage state = _usageSigners[licenseId][signer];
        if (!state.registered || state.revokedAt != 0) revert License__UsageSignerNotActive(signer);
        state.revokedAt = uint40(block.timestamp);
        emit UsageSignerRevoked(licenseId, signer, block.timestamp + settlementGrace);
    }

    /// @dev The uses `accesses` make billable: per signature, the recovered signer's counter minus
    /// its settled counter, which then becomes the settled counter. A signer may appear more than
    /// once with increasing counters (then each signature covers the uses since the previous).
    function _settleAccesses(bytes32 licenseId, SignedAccess[] calldata accesses) private returns (uint256 signed) {
        uint256 grace = settlementGrace;
        for (uint256 i; i < accesses.length; ++i) {
            SignedAccess calldata access = accesses[i];
            // The third value (the failure's argument) is not needed: any failure reverts here.
            (address signer, ECDSA.RecoverError err,) =
                ECDSA.tryRecover(accessDigest(licenseId, access.counter, access.requestHash), access.r, access.vs);
            if (err != ECDSA.RecoverError.NoError) revert License__InvalidAccessSignature(i);
            UsageSigner storage state = _usageSigners[licenseId][signer];
            if (!state.registered) revert License__UnknownUsageSigner(signer);
            uint256 revokedAt = state.revokedAt;
            if (revokedAt != 0 && block.timestamp > revokedAt + grace) revert License__UsageSignerRevoked(signer);
            uint64 settled = state.settledCounter;
            if (access.counter <= settled) revert License__StaleAccessCounter(signer, access.counter, settled);
            signed += access.counter - settled;
            state.settledCounter = access.counter;
        }
    }

    function _licensee(bytes32 licenseId) private view returns (address licensee) {
        licensee = _licenses[licenseId].licensee;
        if (licensee == address(0)) revert License__UnknownLicense();
    }

    function _contentOf(bytes32 licenseId) private view returns (bytes32) {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) revert License__UnknownLicense();
        return license.contentId;
    }

    function _checkSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        private
        view
    {
        if (block.timestamp > deadline) revert License__SignatureExpired();
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert License__InvalidSignature();
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
