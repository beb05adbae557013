// deskpod was built without npm, so guacamole-common-js could not be fetched.
throw new Error('deskpod was built without guacamole-common-js (npm was not found at build time)');
export default {};
