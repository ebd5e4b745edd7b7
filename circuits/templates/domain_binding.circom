pragma circom 2.1.0;

// DomainBinding: ties a proof to one chain and one consuming contract.
//
// `domain = uint256(keccak256(abi.encode(chainid, consumer))) % p` is a public input of every
// circuit, and the consuming contract passes its own value, so a proof made for another chain or
// another contract fails verification there. A public input that appears in no constraint is
// still bound by the Groth16 verification equation (through its IC term), but squaring it puts
// it in a real constraint, so no compiler optimisation or tool can treat it as unused.
template DomainBinding() {
    signal input domain;
    signal domainSquared;
    domainSquared <== domain * domain;
}
