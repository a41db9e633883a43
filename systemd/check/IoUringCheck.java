import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Run by check-unit.sh under bufcached.service's sandbox (not part of the build): exercises
 * io_uring (io_uring_setup, the io_uring_register probe, io_uring_enter through a TCP echo over
 * Netty's io_uring transport) and a shared mmap of a file, printing one line for each.
 */
public class IoUringCheck {
    public static void main(String[] args) throws Exception {
        System.out.println("io_uring available: " + IoUring.isAvailable() + (IoUring.isAvailable() ? "" : " cause " + IoUring.unavailabilityCause()));
        if (IoUring.isAvailable()) {
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory());
            CompletableFuture<String> echoed = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(group).channel(IoUringServerSocketChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override public void channelRead(ChannelHandlerContext ctx, Object msg) { ctx.writeAndFlush(msg); }
                    }).bind("127.0.0.1", 0).sync().channel();
            Channel client = new Bootstrap().group(group).channel(IoUringSocketChannel.class)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            echoed.complete(((io.netty.buffer.ByteBuf) msg).toString(java.nio.charset.StandardCharsets.UTF_8));
                        }
                    }).connect(server.localAddress()).sync().channel();
            client.writeAndFlush(Unpooled.copiedBuffer("ping", java.nio.charset.StandardCharsets.UTF_8));
            System.out.println("io_uring echo: " + echoed.get(10, TimeUnit.SECONDS));
            client.close().sync(); server.close().sync(); group.shutdownGracefully().sync();
        }
        try (RandomAccessFile f = new RandomAccessFile(args[0], "rw")) {
            f.setLength(1 << 20);
            MappedByteBuffer m = f.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
            m.put(4096, (byte) 42); m.force();
            System.out.println("mmap shared write: " + (m.get(4096) == 42 ? "ok" : "FAILED"));
        }
    }
}
