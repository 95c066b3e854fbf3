"""Linux drivers: kernel sockets, SocketCAN through python-can, GPIO through gpiod."""
