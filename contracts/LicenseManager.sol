// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MarketplaceBase} from "./MarketplaceBase.sol";
import {SNARK_SCALAR_FIELD, NO_EXPIRY} from "./Constants.sol";
import {ILicenseManager} from "./interfaces/ILicenseManager.sol";
import {IContentRegistry} from "./interfaces/IContentRegistry.sol";
import {IPaymentEscrow} from "./interfaces/IPaymentEscrow.sol";

/// @title LicenseManager
/// @notice License terms and licenses (Flow 2). Holds each license's usage accumulator (`chain`) and
/// use count, which only UsageTracker (TRACKER_ROLE) advances after a verified usage-batch proof.
contract LicenseManager is ILicenseManager, MarketplaceBase, EIP712, Nonces, ReentrancyGuardTransient {
    /// @notice EIP-712 type of a creator's authorisation to create terms through the relayer.
    bytes32 public constant CREATE_TERMS_TYPEHASH = keccak256(
        "CreateTerms(bytes32 contentId,uint8 licenseType,uint96 pricePerUse,uint32 maxUses,uint40 durationSeconds,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a creator's authorisation to revoke a license through the relayer.
    bytes32 public constant REVOKE_LICENSE_TYPEHASH =
        keccak256("RevokeLicense(bytes32 licenseId,uint256 nonce,uint256 deadline)");

    IContentRegistry public immutable REGISTRY;
    IPaymentEscrow public immutable ESCROW;
    /// @notice The stablecoin licenses are paid in (the escrow's token).
    IERC20 public immutable TOKEN;

    mapping(bytes32 termsId => Terms) private _terms;
    /// @inheritdoc ILicenseManager
    mapping(bytes32 contentId => uint256) public termsCount;
    mapping(bytes32 licenseId => License) private _licenses;
    /// @inheritdoc ILicenseManager
    mapping(uint256 credentialCommitment => bool) public commitmentUsed;

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
        bytes32 s
    ) external nonReentrant whenNotPaused returns (bytes32) {
        if (msg.sender != buyer && !hasRole(RELAYER_ROLE, msg.sender)) revert License__NotAuthorized();
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

    // ---------------------------------------------------------------- usage (UsageTracker)

    /// @inheritdoc ILicenseManager
    function recordUsage(bytes32 licenseId, uint32 startIndex, uint32 count, uint256 chainNew)
        external
        onlyRole(TRACKER_ROLE)
    {
        License storage license = _licenses[licenseId];
        if (license.licensee == address(0)) revert License__UnknownLicense();
        if (license.revoked) revert License__Revoked();
        if (license.uses != startIndex) revert License__UsageOutOfOrder();
        uint256 uses = uint256(startIndex) + count;
        if (uses > license.maxUses) revert License__MaxUsesExceeded();
        license.uses = uint32(uses);
        license.chain = chainNew;
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
    function licenseIdFor(bytes32 termsId, address buyer, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(termsId, buyer, nonce));
    }

    /// @notice The EIP-712 domain separator of `CreateTerms` and `RevokeLicense` signatures.
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
        if (
            credentialCommitment == 0 || credentialCommitment >= SNARK_SCALAR_FIELD
                || commitmentUsed[credentialCommitment]
        ) revert License__InvalidCommitment();

        uint256 validFrom = block.timestamp;
        uint256 validUntil = terms.durationSeconds == 0
            ? NO_EXPIRY
            : _min(validFrom + terms.durationSeconds, NO_EXPIRY);
        commitmentUsed[credentialCommitment] = true;
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
