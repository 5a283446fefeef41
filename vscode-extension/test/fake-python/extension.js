// The part of the Python extension's API that dumpscript reads: the active environment.
exports.activate = function activate() {
  return {
    environments: {
      getActiveEnvironmentPath: () => ({ id: "test", path: process.env.DUMPSCRIPT_TEST_PYTHON }),
    },
  };
};
