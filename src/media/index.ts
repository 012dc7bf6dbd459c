/** Media decode: image headers and integrity, image decode (sharp), video probe and frame access
 * (ffmpeg), and the loopback range server that lets ffmpeg read stored videos in place. */
export { type MediaContext, describeContext } from './context.js';
export {
  IMAGE_FORMATS,
  VIDEO_FORMATS,
  sniffImage,
  sniffVideo,
  type ImageFormat,
  type ImageHeader,
  type VideoFormat,
} from './image-header.js';
export {
  assertImage,
  assertVideo,
  checkImageIntegrity,
  checkVideoIntegrity,
  type IntegrityResult,
} from './integrity.js';
export {
  FAIL_ON,
  IMAGE_FITS,
  ICC_PROFILES,
  configureSharp,
  decodeImage,
  sharpSettings,
  thumbnail,
  type CropBox,
  type DecodeImageOptions,
  type DecodedImage,
  type FailOn,
  type ImageFit,
  type IccProfile,
  type ResizeOptions,
  type SharpSettings,
  type ThumbnailOptions,
} from './image.js';
export {
  classifyFailure,
  ffmpegPath,
  ffprobePath,
  runFfmpeg,
  runFfprobe,
  runProcess,
  startProcess,
  type ProcessHandle,
  type ProcessInput,
  type RunOptions,
  type RunResult,
} from './ffmpeg.js';
export {
  closeRangeServer,
  configureRangeServer,
  rangeServerRunning,
  registerByteSource,
  type ByteSource,
  type RegisterOptions,
  type Registration,
} from './range-server.js';
export { probeVideo, type ProbeOptions, type VideoInfo, type VideoInput } from './video-probe.js';
export {
  FrameStream,
  VideoReader,
  selectFrames,
  type FrameOptions,
  type FrameSelection,
  type FramesOptions,
  type VideoFrame,
  type VideoReaderOptions,
} from './video.js';
