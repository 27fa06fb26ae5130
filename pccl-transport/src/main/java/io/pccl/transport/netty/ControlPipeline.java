package io.pccl.transport.netty;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.pccl.proto.Envelope;
import io.pccl.transport.ProtocolConstants;

/**
 * Installs the bounded control-frame codec: a 4-byte big-endian length prefix, at most
 * {@code maxFrameBytes} of payload, one protobuf {@link Envelope} per frame.
 *
 * <pre>
 *  inbound:  [FRAME_DECODER] -&gt; [PROTOBUF_DECODER] -&gt; ... owner
 *  outbound: owner ... -&gt; [PROTOBUF_ENCODER] -&gt; [FRAME_ENCODER]
 *
 *  +----------------------+-------------------------------+
 *  | length (u32, BE)     | Envelope (protobuf, length B) |
 *  +----------------------+-------------------------------+
 * </pre>
 *
 * A frame whose length exceeds the maximum fails with {@link io.netty.handler.codec.TooLongFrameException}
 * (message names the length and the limit); malformed protobuf fails with a {@code DecoderException}. The owner
 * at the end of the pipeline maps both to a structured error and closes the connection.
 *
 * <p>Thread-safe (stateless).
 */
public final class ControlPipeline {
    /** Handler name of the length-prefix frame decoder. */
    public static final String FRAME_DECODER = "frameDecoder";
    /** Handler name of the protobuf decoder. */
    public static final String PROTOBUF_DECODER = "protobufDecoder";
    /** Handler name of the length-prefix encoder. */
    public static final String FRAME_ENCODER = "frameEncoder";
    /** Handler name of the protobuf encoder. */
    public static final String PROTOBUF_ENCODER = "protobufEncoder";

    private ControlPipeline() {
    }

    /**
     * Adds the control codec handlers at the end of {@code pipeline} with the default frame limit.
     *
     * @param pipeline the channel's pipeline
     */
    public static void install(final ChannelPipeline pipeline) {
        install(pipeline, ProtocolConstants.MAX_CONTROL_FRAME_BYTES);
    }

    /**
     * Adds the control codec handlers at the end of {@code pipeline}.
     *
     * @param pipeline the channel's pipeline
     * @param maxFrameBytes largest accepted frame payload in bytes
     */
    public static void install(final ChannelPipeline pipeline, final int maxFrameBytes) {
        pipeline.addLast(FRAME_DECODER, new LengthFieldBasedFrameDecoder(
                maxFrameBytes + ProtocolConstants.LENGTH_PREFIX_BYTES, 0, ProtocolConstants.LENGTH_PREFIX_BYTES,
                0, ProtocolConstants.LENGTH_PREFIX_BYTES, true));
        pipeline.addLast(PROTOBUF_DECODER, new ProtobufDecoder(Envelope.getDefaultInstance()));
        pipeline.addLast(FRAME_ENCODER, new LengthFieldPrepender(ProtocolConstants.LENGTH_PREFIX_BYTES));
        pipeline.addLast(PROTOBUF_ENCODER, new ProtobufEncoder());
    }
}
