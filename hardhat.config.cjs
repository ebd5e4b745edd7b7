// Hardhat is used only as the local EVM node (`hardhat node`); contracts are compiled with
// solc-js by contracts/build.mjs, not by Hardhat.
module.exports = {
  solidity: "0.8.28",
  networks: {
    hardhat: {
      chainId: 31337,
      // Groth16 verification and 64-event batches need room.
      blockGasLimit: 60_000_000,
      allowUnlimitedContractSize: false,
      mining: { auto: true },
    },
  },
};
