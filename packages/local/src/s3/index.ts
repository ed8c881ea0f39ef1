export { LOCAL_S3_CREDENTIALS, LocalS3, type LocalS3Options } from './LocalS3.js';
