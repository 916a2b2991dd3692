// Native addons (better-sqlite3, cpu-features) cannot ride in an esbuild bundle; the Lambda uses the DynamoDB
// store and ssh2 runs without cpu-features, so using one of them in a Lambda is a configuration error.
module.exports = function nativeModuleUnavailable() {
  throw new Error("this native module is not in the Lambda bundle: the Lambda runs with [store] driver = \"dynamodb\"");
};
